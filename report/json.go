package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"
)

// WriteJSON writes the model as indented JSON in the schema of
// docs/report-json.md: fields in declaration order, lists in the order
// Finalize sorted them, and <, > and & escaped as \u003c, \u003e, \u0026 so
// that the output is safe to embed anywhere. Characters that encoding/json
// leaves raw but that are invisible or control characters (DEL, C1 controls,
// bidi overrides) are written as \uNNNN escapes, which decode to the same
// string.
func WriteJSON(w io.Writer, m *Model) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("render json report: %w", err)
	}
	out := buf.Bytes()
	if bytes.IndexFunc(out, func(r rune) bool { return needsRewrite(r, utf8.RuneLen(r)) && r != '\n' }) >= 0 {
		var esc []byte
		for _, r := range string(out) {
			if needsRewrite(r, utf8.RuneLen(r)) && r != '\n' {
				esc = fmt.Appendf(esc, `\u%04x`, r)
				continue
			}
			esc = utf8.AppendRune(esc, r)
		}
		out = esc
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON, rejecting unknown fields and
// other schema versions.
func ReadJSON(r io.Reader) (*Model, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	if m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("read json report: schema_version %d, want %d", m.SchemaVersion, SchemaVersion)
	}
	return &m, nil
}
