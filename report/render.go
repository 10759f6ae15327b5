package report

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"
	"unicode"
	"unicode/utf8"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// funcs are shared by both templates, so HTML and Markdown format numbers
// and words the same way.
var funcs = map[string]any{
	"count":    FormatCount,
	"conf":     func(c float64) string { return fmt.Sprintf("%.2f", c) },
	"upper":    strings.ToUpper,
	"add":      func(a, b int) int { return a + b },
	"plural":   plural,
	"spans":    spans,
	"stuck":    func(s Status) bool { return s.Stuck() },
	"anchor":   anchor,
	"sockAnch": func(i int) string { return fmt.Sprintf("sock-%d", i+1) },
	"md":       mdEscape,
	"code":     mdCode,
	"how":      how,
	"flows":    func(f []Flow) []Flow { return firstN(f, FlowRows) },
	"suspects": func(s []Suspect) []Suspect { return firstN(s, SuspectRows) },
	"sub":      func(a, b int) int { return a - b },
	"cites":    func(p []Pos) []Pos { return firstN(p, CiteRows) },
}

var (
	htmlTmpl = htmltemplate.Must(htmltemplate.New("report.html.tmpl").Funcs(funcs).
			ParseFS(templateFS, "templates/report.html.tmpl"))
	mdTmpl = texttemplate.Must(texttemplate.New("report.md.tmpl").Funcs(funcs).
		ParseFS(templateFS, "templates/report.md.tmpl"))
)

// WriteHTML writes the model as one self-contained HTML page: inline CSS,
// inline SVG charts drawn here, one inline script of the template's own that
// filters and pages the socket table, and nothing fetched from anywhere. The
// page's size is bounded: it lists HTMLSocketRows sockets after aggregates
// over all of them, and says how many it leaves out.
// Every string from the evidence goes through html/template's contextual
// escaping; control characters are then shown as \xNN.
func WriteHTML(w io.Writer, m *Model) error {
	var buf bytes.Buffer
	if err := htmlTmpl.Execute(&buf, newHTMLView(m)); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	if _, err := w.Write(visible(buf.Bytes())); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// MarkdownSocketRows is how many sockets the Markdown report lists before
// pointing at the JSON report for the rest.
const MarkdownSocketRows = 25

// WriteMarkdown writes the model as GitHub-flavoured Markdown for an
// incident ticket: the verdict first, then findings, sockets, inputs and
// warnings. Every string from the evidence is escaped by md.
func WriteMarkdown(w io.Writer, m *Model) error {
	var buf bytes.Buffer
	v := mdView{Model: m, Rows: MarkdownSocketRows}
	if err := mdTmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("render markdown report: %w", err)
	}
	if _, err := w.Write(visible(buf.Bytes())); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

type mdView struct {
	*Model
	Rows int // sockets listed
}

// More is how many sockets are left out of the Markdown table.
func (v mdView) More() int { return max(0, len(v.Sockets)-v.Rows) }

// Span is a piece of trusted prose: plain text, or code when the source
// had it between backticks.
type Span struct {
	Text string
	Code bool
}

// spans splits advice text at backticks into text and code pieces, so that
// templates can show code without trusting the text as markup.
func spans(s string) []Span {
	var out []Span
	for i, part := range strings.Split(s, "`") {
		if part != "" {
			out = append(out, Span{Text: part, Code: i%2 == 1})
		}
	}
	return out
}

// mdEscape makes untrusted text inert in GitHub-flavoured Markdown, inside
// table cells too: Markdown punctuation is backslash-escaped, <, > and & are
// entities, line breaks become spaces and control or bidi characters are
// shown as \xNN or \uNNNN.
func mdEscape(s string) string {
	var b strings.Builder
	lineStart := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\\x%02x`, r)
		case isInvisible(r):
			fmt.Fprintf(&b, `\\u%04x`, r)
		case strings.ContainsRune("\\`*_[]|~{}!", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '#' && lineStart, r == '-' && lineStart, r == '+' && lineStart, r == '=' && lineStart:
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
		lineStart = false
	}
	return b.String()
}

// mdCode writes trusted text as a Markdown code span, with a fence longer
// than any run of backticks inside it. Text that a code span would show
// raw but that could still break out (markup, table pipes, control or
// invisible characters) falls back to mdEscape.
func mdCode(s string) string {
	if strings.ContainsAny(s, "<>&|\n\r") || strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || isInvisible(r) || r == utf8.RuneError
	}) >= 0 {
		return mdEscape(s)
	}
	fence, run := "`", 0
	for _, r := range s {
		if r == '`' {
			run++
			if run >= len(fence) {
				fence += "`"
			}
		} else {
			run = 0
		}
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// isInvisible reports characters that change how surrounding text displays
// without showing themselves: bidi controls and line separators.
func isInvisible(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x2028 || r == 0x2029 || r == 0x200e || r == 0x200f || r == 0xfeff
}

// visible rewrites, in rendered output, every control character other than
// newline and tab, and every invisible one, as a visible \xNN or \uNNNN, and
// invalid UTF-8 as U+FFFD. The templates themselves contain none, so only
// evidence is affected.
func visible(b []byte) []byte {
	if allVisible(b) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			out = utf8.AppendRune(out, utf8.RuneError)
		case needsRewrite(r, size) && r < 0x100:
			out = fmt.Appendf(out, `\x%02x`, r)
		case needsRewrite(r, size):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

// allVisible reports whether b has no character that needsRewrite names,
// which visible and writeSafe leave b as it is for. ASCII other than
// controls and DEL is skipped a byte at a time, so that a large report,
// almost all ASCII, is not decoded rune by rune.
func allVisible(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if needsRewrite(r, size) {
			return false
		}
		i += size
	}
	return true
}

// needsRewrite reports the characters visible and writeSafe rewrite:
// controls other than newline and tab, invisible ones (isInvisible) and
// invalid UTF-8 (size 1).
func needsRewrite(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return true
	}
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || isInvisible(r)
}

// how says in words how the local endpoints were chosen.
func how(m LocalMethod) string {
	switch m {
	case LocalFlag:
		return "given with --local"
	case LocalEvidence:
		return "taken from the socket evidence"
	case LocalCapture:
		return "inferred from the capture"
	}
	return "unknown"
}
