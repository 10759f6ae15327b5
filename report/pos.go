package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/pcapstate"
)

// PosKind says what a Pos points at: a whole file ("ss.txt"), a line of a
// text file ("ss.txt:42"), a packet of a capture ("capture.pcap: packet
// 51234"), or a source of evidence that is no file (a command-line flag,
// "--max-fds", or the captures as a whole, "captures"). The zero value is
// no position.
type PosKind uint8

const (
	PosNone   PosKind = iota // none
	PosFile                  // file
	PosLine                  // line
	PosPacket                // packet
	PosSource                // source
)

// Pos is where the report found something: a line of an evidence file, a
// packet of a capture, a whole file, or a source that is no file. It is
// made from the parsers' positions (TextPos, PacketPos) and stays a value
// until a renderer prints it (String, MarshalText), as go/token.Position
// does; lists of positions are sorted by Compare, on the fields, never on
// the text. It is 32 bytes and shares the parser's file name: a report
// of 400,000 sockets holds millions.
type Pos struct {
	// File is the file as the user named it (PosFile, PosLine,
	// PosPacket), or what a PosSource names ("--max-fds").
	File string
	// N is the 1-based line of a PosLine, the packet number of a
	// PosPacket, 0 for the other kinds.
	N    uint64
	Kind PosKind
}

// TextPos is the position of a record or warning of a text evidence file:
// its line, or the whole file when the position has no line.
func TextPos(p dumps.Pos) Pos {
	switch {
	case p.File == "":
		return Pos{}
	case p.Line > 0:
		return Pos{Kind: PosLine, File: p.File, N: uint64(p.Line)}
	}
	return Pos{Kind: PosFile, File: p.File}
}

// PacketPos is the position of a packet of a capture; the zero
// pcapstate.Pos (no packet) is no position.
func PacketPos(p pcapstate.Pos) Pos {
	if p.IsZero() {
		return Pos{}
	}
	return Pos{Kind: PosPacket, File: p.File, N: p.Packet}
}

// FilePos is a whole file.
func FilePos(file string) Pos { return Pos{Kind: PosFile, File: file} }

// SourcePos is a source of evidence that is no file: "--max-fds",
// "captures".
func SourcePos(name string) Pos { return Pos{Kind: PosSource, File: name} }

// IsZero reports whether p is no position.
func (p Pos) IsZero() bool { return p.Kind == PosNone }

// String is the position as the report prints it: "ss.txt:42",
// "capture.pcap: packet 51234", "ss.txt", "--max-fds"; "" for none.
func (p Pos) String() string {
	switch p.Kind {
	case PosLine:
		return p.File + ":" + strconv.FormatUint(p.N, 10)
	case PosPacket:
		return p.File + ": packet " + strconv.FormatUint(p.N, 10)
	case PosFile, PosSource:
		return p.File
	}
	return ""
}

// Compare orders positions by file (or source name), then whole files
// before lines before packets before sources, then by line or packet
// number: "ss.txt:9" before "ss.txt:42", "capture.pcap: packet 7" before
// "capture.pcap: packet 51234".
func (p Pos) Compare(q Pos) int {
	return cmp.Or(cmp.Compare(p.File, q.File), cmp.Compare(p.Kind, q.Kind), cmp.Compare(p.N, q.N))
}

// MarshalText writes the position as String does, so that the JSON report
// cites positions as the other formats print them.
func (p Pos) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a position as MarshalText writes it, for ReadJSON:
// "file: packet N" is a packet, "file:N" a line, anything else a whole
// file. The text does not say whether it was a file or a source that is
// no file, nor whether a file whose name ends in ":N" was a whole file;
// either way what is read prints as it was written.
func (p *Pos) UnmarshalText(b []byte) error {
	s := string(b)
	*p = Pos{}
	if s == "" {
		return nil
	}
	const packet = ": packet "
	if i := strings.LastIndex(s, packet); i >= 0 {
		if v, err := strconv.ParseUint(s[i+len(packet):], 10, 64); err == nil {
			*p = Pos{Kind: PosPacket, File: s[:i], N: v}
		}
	}
	if i := strings.LastIndexByte(s, ':'); p.IsZero() && i >= 0 {
		if v, err := strconv.ParseUint(s[i+1:], 10, 64); err == nil && v > 0 {
			*p = Pos{Kind: PosLine, File: s[:i], N: v}
		}
	}
	if p.String() != s { // "f:007", "a: packet 01"
		*p = Pos{Kind: PosFile, File: s}
	}
	return nil
}

// sortPositions is ps sorted with Compare, without duplicates and zero
// positions, in a new slice. It never returns nil.
func sortPositions(ps []Pos) []Pos { return sortOwnPositions(slices.Clone(ps)) }

// sortOwnPositions is sortPositions in place, for a slice no one else
// holds; a long one (a finding of 400,000 sockets cites a million) has
// its halves sorted on two goroutines (sortSplit: alike positions are
// equal, so the order is slices.SortFunc's).
func sortOwnPositions(ps []Pos) []Pos {
	ps = slices.DeleteFunc(ps, Pos.IsZero)
	sortSplit(ps, Pos.Compare)
	return nonNil(slices.Compact(ps))
}

// joinPositions prints positions as String does, separated by sep.
func joinPositions(ps []Pos, sep string) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p.String())
	}
	return b.String()
}
