package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cwforensics/cwforensics/internal/ordered"
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
// as text/tabwriter pads them: row(i, cells) appends row i's cells to
// cells (see writeAlignedRows, here on one goroutine).
func writeAligned(w io.Writer, n int, row func(i int, cells []string) []string) error {
	var cells []string
	return writeAlignedRows(w, n, 1, func(i int, b []byte, ends []int) ([]byte, []int) {
		cells = row(i, cells[:0])
		for _, c := range cells {
			b = append(b, c...)
			ends = append(ends, len(b))
		}
		return b, ends
	})
}

// alignedRow appends row i's cells to b, one after the other, and the end
// of each in b to ends. It is called from several goroutines at once.
type alignedRow func(i int, b []byte, ends []int) ([]byte, []int)

// alignedChunk is how many rows one goroutine formats at a time.
const alignedChunk = 256

// writeAlignedRows writes n rows aligned in columns two spaces apart, as
// text/tabwriter pads them, without holding them: row formats each row
// twice, to measure the columns and to write, each time on up to workers
// goroutines (conns' 50,000 rows of the reference capture took 0.17 s
// as strings on one core, after the captures were read). Cells are
// escaped with escapeCell; a column's width counts runes, and the last
// cell of a row is not padded.
func writeAlignedRows(w io.Writer, n, workers int, row alignedRow) error {
	widths := columnWidths(n, workers, row)
	encode := func(out []byte, from, to int) ([]byte, error) {
		var b []byte
		var ends []int
		for i := from; i < to; i++ {
			b, ends = row(i, b[:0], ends[:0])
			start := 0
			for j, e := range ends {
				c, width := printedCell(b[start:e])
				start = e
				out = append(out, c...)
				if j < len(ends)-1 {
					for ; width < widths[j]+2; width++ {
						out = append(out, ' ')
					}
				}
			}
			out = append(out, '\n')
		}
		return out, nil
	}
	return ordered.Encode(n, alignedChunk, workers, encode, func(b []byte) error {
		_, err := w.Write(b)
		return err
	})
}

// columnWidths measures the columns of n rows, but for each row's last
// cell, on up to workers goroutines (ordered.MaxWorkers at most, as the
// rows are formatted: each holds a row's buffer), each taking a
// stretch of rows.
func columnWidths(n, workers int, row alignedRow) []int {
	parts := max(min(workers, ordered.MaxWorkers, (n+alignedChunk-1)/alignedChunk), 1)
	found := make([][]int, parts)
	measure := func(p int) {
		var b []byte
		var ends []int
		var widths []int
		for i := n * p / parts; i < n*(p+1)/parts; i++ {
			b, ends = row(i, b[:0], ends[:0])
			start := 0
			for j := range max(len(ends)-1, 0) {
				_, width := printedCell(b[start:ends[j]])
				start = ends[j]
				if j == len(widths) {
					widths = append(widths, 0)
				}
				widths[j] = max(widths[j], width)
			}
		}
		found[p] = widths
	}
	var wg sync.WaitGroup
	for p := 1; p < parts; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			measure(p)
		}()
	}
	measure(0)
	wg.Wait()
	var widths []int
	for _, ws := range found {
		for j, x := range ws {
			if j == len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], x)
		}
	}
	return widths
}

// printedCell returns cell c as the table prints it (escapeCell) and its
// width in runes, the one rule columnWidths measures by and
// writeAlignedRows pads by: a clean cell is itself, as wide as it is long.
func printedCell(c []byte) ([]byte, int) {
	if cellClean(c) {
		return c, len(c)
	}
	e := escapeCell(string(c))
	return []byte(e), utf8.RuneCountInString(e)
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
func cellClean[S ~string | ~[]byte](s S) bool {
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
