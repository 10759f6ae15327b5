package filter

import (
	"testing"
)

// linkTypes are the link types the fuzz targets compile for.
var linkTypes = []uint32{0, 1, 9, 101, 104, 108, 113, 228, 229, 276}

func seedExprs() []string {
	var s []string
	for _, tt := range parseTests {
		s = append(s, tt.in)
	}
	for _, tt := range parseErrors {
		s = append(s, tt.in)
	}
	for _, tt := range evalTests {
		s = append(s, tt.expr)
	}
	return s
}

// FuzzFilter parses arbitrary expressions: no panic, and an expression
// that parses prints a form that parses to the same tree and matches the
// same frames on every link type.
func FuzzFilter(f *testing.F) {
	for _, s := range seedExprs() {
		f.Add(s)
	}
	frames := [][]byte{synV4, finV4, dnsV4, synV6, fragV6, tagged, fragV4, arpReq, shortV4, optsV4, rawSynV4, nil, {0x45}}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Parse(expr)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q): error %T, want *Error: %v", expr, err, err)
			}
			return
		}
		if e.Root() == nil {
			return
		}
		printed := e.Root().String()
		e2, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) prints %q, which does not parse: %v", expr, printed, err)
		}
		if again := e2.Root().String(); again != printed {
			t.Fatalf("Parse(%q) prints %q, which reads back as %q", expr, printed, again)
		}
		for _, lt := range linkTypes {
			p1, err1 := e.Compile(lt)
			p2, err2 := e2.Compile(lt)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%q and %q compile differently on link type %d: %v, %v", expr, printed, lt, err1, err2)
			}
			if err1 != nil {
				continue
			}
			for _, fr := range frames {
				if p1.Match(fr, len(fr)) != p2.Match(fr, len(fr)) {
					t.Fatalf("%q and %q disagree on link type %d, frame % x", expr, printed, lt, fr)
				}
			}
		}
	})
}

// FuzzFilterMatch runs expressions against arbitrary frames of every link
// type: no panic, whatever the frame, and a frame and its copy with junk
// after the captured bytes get the same answer (no read past the end).
func FuzzFilterMatch(f *testing.F) {
	for _, tt := range evalTests {
		f.Add(tt.expr, tt.frame, uint8(0))
	}
	f.Fuzz(func(t *testing.T, expr string, frame []byte, li uint8) {
		e, err := Parse(expr)
		if err != nil {
			return
		}
		lt := linkTypes[int(li)%len(linkTypes)]
		p, err := e.Compile(lt)
		if err != nil {
			return
		}
		got := p.Match(frame, len(frame))
		padded := append(append(make([]byte, 0, len(frame)+64), frame...), make([]byte, 64)...)
		for i := len(frame); i < len(padded); i++ {
			padded[i] = byte(i*7 + 1)
		}
		if p.Match(padded[:len(frame)], len(frame)) != got {
			t.Fatalf("%q on link type %d reads past the captured bytes of % x", expr, lt, frame)
		}
	})
}
