package report

import (
	"bufio"
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
//
// The sockets, which are most of a large report, are encoded one at a
// time into the output, so that memory does not grow with the report's
// size (400,000 stuck sockets make 270 MB of JSON); they, the findings,
// which cite every socket, and the warnings are written field by field
// (appendSocket, jsonOut.finding, writeWarnings) in the bytes
// encoding/json would give, long lists on up to 4 cores (internal/ordered).
func WriteJSON(w io.Writer, m *Model) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writeJSON(bw, m); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// writeJSON encodes the head, the model without the spliced lists, with
// encoding/json and writes it with each list's null replaced by the list
// as the whole model's encoding would write it. A field's line starts
// with a newline and the top level's indent, which no string can hold
// (a newline in a string is escaped): each null is found at its field.
func writeJSON(w *bufio.Writer, m *Model) error {
	// spliced are the top-level lists written here, in the order of
	// Model's fields, each with its field as the head's encoding writes
	// it when the list is left out (nil): the lines that give a large
	// report its size.
	spliced := []struct {
		null  string // the field with null, on its own line at the top level
		write func() error
	}{
		{"\n  \"findings\": null", func() error { return writeFindings(w, m.Findings) }},
		{"\n  \"sockets\": null", func() error { return writeSockets(w, m.Sockets) }},
		{"\n  \"warnings\": null", func() error { return writeWarnings(w, m.Warnings) }},
	}
	head := *m
	head.Findings, head.Sockets, head.Warnings = nil, nil, nil
	out, err := encodeJSON(&head, "")
	if err != nil {
		return err
	}
	at := make([]int, len(spliced))
	from := 0
	for k, s := range spliced {
		i := bytes.Index(out[from:], []byte(s.null))
		if i < 0 { // not the head's encoding of today's Model
			if out, err = encodeJSON(m, ""); err != nil {
				return err
			}
			return writeSafe(w, out)
		}
		at[k] = from + i + len(s.null) - len("null")
		from = at[k] + len("null")
	}
	from = 0
	for k, s := range spliced {
		if err := writeSafe(w, out[from:at[k]]); err != nil {
			return err
		}
		if err := s.write(); err != nil {
			return err
		}
		from = at[k] + len("null")
	}
	return writeSafe(w, out[from:])
}

// writeSockets writes the sockets as the model's encoding would indent
// them under the top-level "sockets" field: the sockets are most of a
// large report's JSON (encoding 50,000 took 0.2 s on one core), written a
// chunk at a time on up to 4 cores as every long list is (listOf).
func writeSockets(w *bufio.Writer, socks []Socket) error {
	o := &jsonOut{w: w}
	if err := listOf(o, socks, "\n  ", appendSocket); err != nil {
		return err
	}
	return o.flush()
}

// encodeJSON encodes v indented as WriteJSON does, each line after the
// first prefixed.
func encodeJSON(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("render json report: %w", err)
	}
	return buf.Bytes(), nil
}

// writeSafe writes encoded JSON with the characters that needsRewrite
// names as \uNNNN escapes.
func writeSafe(w *bufio.Writer, out []byte) error {
	if !allVisible(out) {
		var esc []byte
		for _, r := range string(out) {
			if needsRewrite(r, utf8.RuneLen(r)) {
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
