package main

import (
	"fmt"
	"io"
	"strings"
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
	return writeAligned(w, len(t.rows)+1, func(i int, cells []string) []string {
		if i == 0 {
			return append(cells, t.header...)
		}
		return append(cells, t.rows[i-1]...)
	})
}

// writeAligned writes n rows of cells aligned in columns two spaces apart,
// as text/tabwriter pads them, without holding them: row(i, cells) appends
// row i's cells to cells, and is called twice for each row, to measure the
// columns and to write. Cells are escaped with escapeCell; a column's
// width counts runes, the last cell of a row is not padded.
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

// appendEscaped appends escapeCell(s) to b.
func appendEscaped(b []byte, s string) []byte {
	if cellClean(s) {
		return append(b, s...)
	}
	return append(b, escapeCell(s)...)
}

// cellClean reports whether s needs no escaping: printable ASCII only,
// no backslash (the common case, checked without decoding).
func cellClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// escapeCell makes s safe for one cell of a line on a terminal: a
// backslash, tab, newline or carriage return is written \\, \t, \n or
// \r, other control characters (C0, DEL, and C1 as bytes or encoded in
// UTF-8, which some terminals obey) and bytes that are not UTF-8 as \xNN.
// Other text, non-ASCII included, is kept.
func escapeCell(s string) string {
	if cellClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && n == 1, r < 0x20, r >= 0x7f && r < 0xa0:
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
