package report_test

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

// writers are the three formats, by golden-file extension.
var writers = []struct {
	ext   string
	write func(*bytes.Buffer, *report.Model) error
}{
	{"html", func(b *bytes.Buffer, m *report.Model) error { return report.WriteHTML(b, m) }},
	{"md", func(b *bytes.Buffer, m *report.Model) error { return report.WriteMarkdown(b, m) }},
	{"json", func(b *bytes.Buffer, m *report.Model) error { return report.WriteJSON(b, m) }},
}

func finalized(t testing.TB, c sample.Case) *report.Model {
	t.Helper()
	m := c.Model()
	if err := m.Finalize(); err != nil {
		t.Fatalf("%s: Finalize: %v", c.Name, err)
	}
	return m
}

func TestGolden(t *testing.T) {
	for _, c := range sample.Cases() {
		for _, w := range writers {
			t.Run(c.Name+"."+w.ext, func(t *testing.T) {
				var a, b bytes.Buffer
				if err := w.write(&a, finalized(t, c)); err != nil {
					t.Fatal(err)
				}
				if err := w.write(&b, finalized(t, c)); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Fatal("two renderings of the same model differ")
				}
				if w.ext == "html" {
					checkSelfContained(t, a.String())
				}
				golden.Check(t, filepath.Join("testdata", "golden", c.Name+"."+w.ext), a.Bytes())
			})
		}
	}
}

// externalRef matches, inside a tag, anything that would make a browser
// fetch or run something: scripts, sources, URLs with a scheme, CSS imports.
var externalRef = regexp.MustCompile(`(?i)<script|<(img|iframe|object|embed|link|video|audio|source)\b|` +
	`\s(src|srcset|href|action|poster|data)="?(https?:|//|ftp:|file:|data:|javascript:)|url\(|@import`)

// ownScript is the page's one inline script, which filters and pages the
// socket table; it contains no "<", so markup injected into it would show.
var ownScript = regexp.MustCompile(`<script id="cwf-script">[^<]*</script>`)

// withoutOwnScript is the page without its own inline script, which must be
// there exactly once when the page lists sockets, and nowhere else.
func withoutOwnScript(t *testing.T, page string) string {
	t.Helper()
	if n := len(ownScript.FindAllStringIndex(page, -1)); n > 1 {
		t.Errorf("page has its script %d times", n)
	}
	return ownScript.ReplaceAllString(page, "")
}

// checkSelfContained fails when the page could fetch or run anything other
// than its own inline script.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	page = withoutOwnScript(t, page)
	for _, tag := range regexp.MustCompile(`<[^>]*>`).FindAllString(page, -1) {
		if externalRef.MatchString(tag) {
			t.Errorf("page is not self-contained: %s", tag)
		}
	}
	if i := strings.Index(page, "<style>"); i < 0 || strings.Contains(page[i:strings.Index(page, "</style>")], "url(") {
		t.Error("page has no inline style or its style fetches something")
	}
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(href[1], "#") {
			t.Errorf("link %q leaves the page", href[1])
		}
	}
	for _, href := range regexp.MustCompile(`href="#([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `id="`+href[1]+`"`) {
			t.Errorf("link to #%s has no target", href[1])
		}
	}
}

// TestJSONRoundTrip checks that a report read back from its JSON renders
// the same in every format, and that Finalize changes nothing the second
// time.
func TestJSONRoundTrip(t *testing.T) {
	for _, c := range sample.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			m := finalized(t, c)
			var js bytes.Buffer
			if err := report.WriteJSON(&js, m); err != nil {
				t.Fatal(err)
			}
			back, err := report.ReadJSON(bytes.NewReader(js.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := back.Finalize(); err != nil {
				t.Fatal(err)
			}
			for _, w := range writers {
				var a, b bytes.Buffer
				if err := w.write(&a, m); err != nil {
					t.Fatal(err)
				}
				if err := w.write(&b, back); err != nil {
					t.Fatal(err)
				}
				// encoding/json writes invalid UTF-8 as the escape \ufffd
				// and a real U+FFFD raw: the same string either way.
				want := strings.ReplaceAll(a.String(), `\ufffd`, "\uFFFD")
				if diff := cmp.Diff(want, b.String()); diff != "" {
					t.Errorf("%s differs after a JSON round trip:\n%s", w.ext, diff)
				}
			}
		})
	}
}

// BenchmarkWrite renders the 141-socket Go sample in each format.
func BenchmarkWrite(b *testing.B) {
	m := sample.GoServerLeak()
	if err := m.Finalize(); err != nil {
		b.Fatal(err)
	}
	for _, w := range writers {
		b.Run(w.ext, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := w.write(&buf, m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(m.Sockets))*float64(b.N)/b.Elapsed().Seconds(), "sockets/s")
		})
	}
}

// TestWritersShareModel: the three formats rendered side by side from one
// model (as analyze writes its -o files) read it only, and write what
// they write one after another; go test -race checks the reading.
func TestWritersShareModel(t *testing.T) {
	for _, c := range sample.Cases() {
		m := finalized(t, c)
		want := make([]bytes.Buffer, len(writers))
		for i, w := range writers {
			if err := w.write(&want[i], m); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]bytes.Buffer, len(writers))
		errs := make([]error, len(writers))
		var wg sync.WaitGroup
		for i, w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = w.write(&got[i], m)
			}()
		}
		wg.Wait()
		for i, w := range writers {
			if errs[i] != nil || !bytes.Equal(got[i].Bytes(), want[i].Bytes()) {
				t.Errorf("%s.%s: side by side gives other bytes (error %v)", c.Name, w.ext, errs[i])
			}
		}
	}
}
