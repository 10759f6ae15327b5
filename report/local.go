package report

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// ParseLocal parses addresses and networks, one per value or
// comma-separated: an address is a one-address prefix.
func ParseLocal(vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if p, err := netip.ParsePrefix(s); err == nil {
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(strings.Trim(s, "[]"))
			if err != nil {
				return nil, fmt.Errorf("%q: not an IP address or CIDR network", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// ChooseLocal says which endpoints of the captures are local: the networks
// given, when there are any; else the local addresses of the TCP sockets
// the listings in evs show (wildcards and listeners left out); else none,
// and pcapstate takes per connection the endpoint in CLOSE_WAIT, or the one
// that accepted the connection. It returns the prefixes for
// pcapstate.Options.Local and the LocalSource the report shows.
func ChooseLocal(given []netip.Prefix, evs []*dumps.Evidence) ([]netip.Prefix, LocalSource) {
	if len(given) > 0 {
		return given, LocalSource{Method: LocalFlag, Addrs: prefixStrings(given)}
	}
	if ps, from := evidenceLocals(evs); len(ps) > 0 {
		return ps, LocalSource{Method: LocalEvidence, Addrs: prefixStrings(ps), Note: "local addresses of the sockets in " + strings.Join(from, ", ")}
	}
	return nil, LocalSource{Method: LocalCapture, Note: "no --local and no socket listing: an endpoint in CLOSE_WAIT is taken as local, else the endpoint that accepted the connection"}
}

// evidenceLocals lists the local addresses of the TCP sockets the listings
// show, except wildcards, and the files they come from (the first three,
// then how many more).
func evidenceLocals(evs []*dumps.Evidence) ([]netip.Prefix, []string) {
	seen := map[netip.Addr]bool{}
	var from []string
	for _, ev := range evs {
		used := false
		for _, s := range ev.Sockets {
			a := s.Local.Addr
			if s.Proto != dumps.ProtoTCP || !a.IsValid() || a.IsUnspecified() || !s.Remote.Addr.IsValid() || s.Remote.Addr.IsUnspecified() {
				continue
			}
			seen[a.Unmap().WithZone("")] = true
			used = true
		}
		if used {
			from = append(from, ev.File)
		}
	}
	out := make([]netip.Prefix, 0, len(seen))
	for a := range seen {
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	if len(from) > 3 {
		from = append(from[:3], fmt.Sprintf("%d more", count(len(from)-3)))
	}
	return out, from
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p.IsSingleIP() {
			out[i] = p.Addr().String()
		} else {
			out[i] = p.String()
		}
	}
	return out
}
