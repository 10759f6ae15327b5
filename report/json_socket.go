package report

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// appendSocket appends s as writeSockets' reflective encoder wrote it
// (indented under the top-level "sockets" list, with writeSafe's escapes),
// field by field: most of a large report is its sockets, and
// encoding/json's reflection, indenting and the second pass of writeSafe
// made three quarters of the time the JSON report took.
// TestWriteJSONStreamsSockets and FuzzWriteJSONSocket hold it to the
// encoder's bytes.
func appendSocket(b []byte, s *Socket) ([]byte, error) {
	const in = "\n      " // the fields' indent: prefix "    " and one level
	b = append(b, "{"+in+`"key": `...)
	b = appendJSONString(b, s.Key)
	b = append(b, ","+in+`"local": `...)
	b = appendEndpoint(b, s.Local)
	b = append(b, ","+in+`"remote": `...)
	b = appendEndpoint(b, s.Remote)
	b = append(b, ","+in+`"status": `...)
	b = appendJSONString(b, s.Status.String())
	if !s.Since.IsZero() {
		// Since's MarshalJSON, quoted RFC 3339, appended in place.
		b = append(b, ","+in+`"since": "`...)
		var err error
		if b, err = s.Since.AppendText(b); err != nil {
			return b, fmt.Errorf("render json report: socket %s: %w", s.Key, err)
		}
		b = append(b, '"')
	}
	b = append(b, ","+in+`"since_text": `...)
	b = appendJSONString(b, s.SinceText)
	b = append(b, ","+in+`"age_ns": `...)
	b = strconv.AppendInt(b, int64(s.Age), 10)
	if s.AgeLowerBound {
		b = append(b, ","+in+`"age_lower_bound": true`...)
	}
	b = append(b, ","+in+`"age": `...)
	b = appendJSONString(b, s.AgeText)
	if s.PID != 0 {
		b = append(b, ","+in+`"pid": `...)
		b = strconv.AppendInt(b, int64(s.PID), 10)
	}
	if s.Process != "" {
		b = append(b, ","+in+`"process": `...)
		b = appendJSONString(b, s.Process)
	}
	if s.FD != 0 {
		b = append(b, ","+in+`"fd": `...)
		b = strconv.AppendInt(b, int64(s.FD), 10)
	}
	if s.Finding != "" {
		b = append(b, ","+in+`"finding": `...)
		b = appendJSONString(b, s.Finding)
	}
	b = append(b, ","+in+`"evidence": `...)
	b = appendPositions(b, s.Evidence, in)
	return append(b, "\n    }"...), nil
}

// appendEndpoint appends e as a field of a socket.
func appendEndpoint(b []byte, e Endpoint) []byte {
	const in = "\n        "
	b = append(b, "{"+in+`"addr": "`...)
	if e.Addr.IsValid() {
		b = e.Addr.AppendTo(b) // digits, dots, colons, hex and a zone
	}
	b = append(b, `",`+in+`"port": `...)
	b = strconv.AppendUint(b, uint64(e.Port), 10)
	return append(b, "\n      }"...)
}

const hexDigits = "0123456789abcdef"

// asciiRaw are the ASCII characters appendJSONString writes as they are:
// the printable ones but for ", \, <, > and &. A table, as encoding/json
// keeps one: a large report's keys and positions are mostly ASCII, each
// byte tested once.
var asciiRaw = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json quotes it with HTML
// escaping (control characters, <, > and &, U+2028 and U+2029 escaped,
// invalid UTF-8 as \ufffd), and the characters writeSafe rewrites (DEL,
// C1 controls, bidi overrides and other invisible ones) as \uNNNN.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONText(b, s)
	return append(b, '"')
}

// appendJSONText appends s escaped as appendJSONString does, without the
// quotes.
func appendJSONText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiRaw[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' || needsRewrite(r, size) {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
