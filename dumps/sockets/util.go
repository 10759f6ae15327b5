package sockets

import "github.com/cwforensics/cwforensics/dumps"

// stateWord is ParseState for the state column of a listing: a word, never
// /proc's hex.
func stateWord(s string) (dumps.State, bool) {
	if len(s) == 2 && dumps.HexOnly(s) {
		return dumps.StateUnknown, false
	}
	return dumps.ParseState(s)
}

// digitsOnly reports whether s is a non-empty run of decimal digits.
func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func ptrU64(v uint64) *uint64 { return &v }

// appendExtra adds text to s.Extra after sep, unless Extra is full; it
// reports whether the text was kept.
func appendExtra(s *dumps.Socket, sep, text string) bool {
	if len(s.Extra)+len(sep)+len(text) > maxExtra {
		return false
	}
	if s.Extra != "" {
		s.Extra += sep
	}
	s.Extra += text
	return true
}

// maxExtra caps Socket.Extra: continuation lines (ss -i, Windows -b) are
// appended to it, and a flood of them must not make parsing quadratic.
const maxExtra = 4 << 10
