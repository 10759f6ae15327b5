package pcapstate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// finish fills the exported fields of f that are computed at the end of a
// read: times, link types, skip counts and why the file was ignored.
func (f *FileStats) finish() {
	if f.Packets > 0 {
		f.First, f.Last = time.Unix(0, f.first).UTC(), time.Unix(0, f.last).UTC()
	}
	var seg Segment
	for lt := range f.linkSeen {
		f.LinkTypes = append(f.LinkTypes, linkName(lt))
		if (&Decoder{}).Decode(decoderLink(lt), nil, &seg) == SkipUnsupportedLink {
			f.UnsupportedLinkTypes = append(f.UnsupportedLinkTypes, lt)
		}
	}
	slices.Sort(f.LinkTypes)
	slices.Sort(f.UnsupportedLinkTypes)
	for k, n := range f.skips {
		if n > 0 {
			f.Skipped = append(f.Skipped, SkipCount{Skip(k).String(), n})
		}
	}
	f.Ignored = f.ignored()
}

// ignored says why a file gave no TCP segment, or "" when it gave some.
func (f *FileStats) ignored() string {
	switch {
	case f.Segments > 0:
		return ""
	case f.Packets == 0 && f.Truncated:
		return "no packet before the damage"
	case f.Packets == 0:
		return "no packets"
	case f.Filtered == f.Packets:
		return fmt.Sprintf("all %s filtered out", plural(f.Packets, "packet"))
	case f.skips[SkipUnsupportedLink] == f.Packets-f.Filtered:
		var lts []string
		for _, lt := range f.UnsupportedLinkTypes {
			lts = append(lts, strconv.FormatUint(uint64(lt), 10))
		}
		word := "type"
		if len(lts) > 1 {
			word = "types"
		}
		return fmt.Sprintf("unsupported link %s %s", word, strings.Join(lts, ", "))
	}
	var kinds []string
	for _, s := range f.Skipped {
		kinds = append(kinds, fmt.Sprintf("%s %d", s.Kind, s.Packets))
	}
	return fmt.Sprintf("no TCP segment in %s (%s)", plural(f.Packets-f.Filtered, "packet"), strings.Join(kinds, ", "))
}

// plural is "1 packet" or "2 packets".
func plural(n uint64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.FormatUint(n, 10) + " " + word + "s"
}

// count counts a packet of the file: filtered out, a TCP segment (k is
// SkipNone), or passed over for k. Read and WritePartial both count by it,
// so that a partial state's stats are Read's.
func (f *FileStats) count(filtered bool, k Skip) {
	switch {
	case filtered:
		f.Filtered++
	case k == SkipNone:
		f.Segments++
	default:
		f.skips[k]++
	}
}
