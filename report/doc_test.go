package report_test

import (
	"bytes"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cwforensics/cwforensics/internal/golden"
	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

const jsonDoc = "../docs/report-json.md"

// docExample is the first ```json block of docs/report-json.md.
func docExample(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile(jsonDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatalf("%s has no ```json block", jsonDoc)
	}
	return []byte(block)
}

// TestDocExample checks that the documented example is what WriteJSON
// writes for sample.DocExample, and that it decodes with unknown fields
// disallowed and encodes back to the same bytes.
func TestDocExample(t *testing.T) {
	block := docExample(t)
	m := sample.DocExample()
	if err := m.Finalize(); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := report.WriteJSON(&want, m); err != nil {
		t.Fatal(err)
	}
	if golden.Updating() {
		doc, err := os.ReadFile(jsonDoc)
		if err != nil {
			t.Fatal(err)
		}
		updated := strings.Replace(string(doc), "```json\n"+string(block), "```json\n"+want.String(), 1)
		if err := os.WriteFile(jsonDoc, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		block = want.Bytes()
	}
	if diff := cmp.Diff(want.String(), string(block)); diff != "" {
		t.Errorf("%s example is stale; paste WriteJSON(sample.DocExample()) (-want +doc):\n%s", jsonDoc, diff)
	}
	back, err := report.ReadJSON(bytes.NewReader(block))
	if err != nil {
		t.Fatalf("doc example does not decode strictly: %v", err)
	}
	var again bytes.Buffer
	if err := report.WriteJSON(&again, back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(block), again.String()); diff != "" {
		t.Errorf("doc example does not round-trip:\n%s", diff)
	}
}

// TestDocFields checks that every JSON field of the schema is documented.
func TestDocFields(t *testing.T) {
	doc, err := os.ReadFile(jsonDoc)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]bool{}
	var walk func(reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Slice || ty.Kind() == reflect.Pointer {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() != reflect.TypeFor[report.Model]().PkgPath() {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = true
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[report.Model]())
	for name := range fields {
		if !regexp.MustCompile("\\| `" + regexp.QuoteMeta(name) + "` \\|").Match(doc) {
			t.Errorf("%s does not document field %q in a table row", jsonDoc, name)
		}
	}
}
