package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the model as indented JSON in the schema of
// docs/report-json.md: fields in declaration order, lists in the order
// Finalize sorted them, and <, > and & escaped as \u003c, \u003e, \u0026 so
// that the output is safe to embed anywhere.
func WriteJSON(w io.Writer, m *Model) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
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
