package report

import (
	"fmt"
	"io"
)

// Write writes the model in a format: "md" (Markdown), "html" or "json".
func Write(w io.Writer, format string, m *Model) error {
	switch format {
	case "html":
		return WriteHTML(w, m)
	case "json":
		return WriteJSON(w, m)
	case "md", "markdown":
		return WriteMarkdown(w, m)
	}
	return fmt.Errorf("unknown report format %q, want md, html or json", format)
}
