package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// table is rows of text cells under a header, printed as TSV for programs or
// as aligned columns for people. Cells come from untrusted evidence, so both
// writers escape tabs, newlines and other control characters.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// writeTSV writes the header and the rows, tab-separated. A backslash, tab,
// newline or carriage return inside a cell is written as \\, \t, \n or \r,
// and any other control character as \xNN, so every row stays one line.
func (t *table) writeTSV(w io.Writer) error {
	for _, r := range append([][]string{t.header}, t.rows...) {
		if err := writeTSVRow(w, r); err != nil {
			return err
		}
	}
	return nil
}

// writeTSVRow writes one row of cells as writeTSV does.
func writeTSVRow(w io.Writer, cells []string) error {
	_, err := w.Write(appendTSVRow(nil, cells))
	return err
}

// appendTSVRow appends one row of cells, as writeTSV writes it, to b.
func appendTSVRow(b []byte, cells []string) []byte {
	for i, c := range cells {
		if i > 0 {
			b = append(b, '\t')
		}
		b = append(b, escapeCell(c)...)
	}
	return append(b, '\n')
}

// writeText writes the table aligned in columns with two spaces between them.
func (t *table) writeText(w io.Writer) error {
	tw := newTextTable(w)
	tw.row(t.header...)
	for _, r := range t.rows {
		tw.row(r...)
	}
	return tw.Flush()
}

// writeAligned writes n rows of cells aligned in columns two spaces apart,
// byte for byte as writeText's tabwriter does for rows of as many cells,
// without holding them: row(i, cells) appends row i's cells to cells, and
// is called twice for each row, to measure the columns and to write.
// Cells are escaped with escapeCell; they must not contain the tabwriter's
// escape byte 0xff, which a tabwriter would treat specially (the callers'
// cells are addresses, numbers, times and names of states).
func writeAligned(w io.Writer, n int, row func(i int, cells []string) []string) error {
	var widths []int
	var cells []string
	for i := range n {
		cells = row(i, cells[:0])
		for j := range max(len(cells)-1, 0) { // the last cell is not a column
			if j == len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(escapeCell(cells[j])))
		}
	}
	var b []byte
	for i := range n {
		cells = row(i, cells[:0])
		b = b[:0]
		for j, c := range cells {
			c = escapeCell(c)
			b = append(b, c...)
			if j < len(cells)-1 {
				for k := utf8.RuneCountInString(c); k < widths[j]+2; k++ {
					b = append(b, ' ')
				}
			}
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// textTable aligns rows of cells in columns with two spaces between them.
type textTable struct {
	tw  *tabwriter.Writer
	err error // the first write error
}

func newTextTable(w io.Writer) *textTable {
	return &textTable{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row adds a row of cells, escaped as in writeTSV.
func (t *textTable) row(cells ...string) {
	for i, c := range cells {
		if t.err != nil {
			return
		}
		if i > 0 {
			_, t.err = io.WriteString(t.tw, "\t")
		}
		if t.err == nil {
			_, t.err = io.WriteString(t.tw, escapeCell(c))
		}
	}
	if t.err == nil {
		_, t.err = io.WriteString(t.tw, "\n")
	}
}

// Flush writes the aligned rows.
func (t *textTable) Flush() error {
	if t.err != nil {
		return t.err
	}
	return t.tw.Flush()
}

// appendEscaped appends escapeCell(s) to b.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return append(b, escapeCell(s)...)
		}
	}
	return append(b, s...)
}

func escapeCell(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
