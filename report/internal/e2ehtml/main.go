// Command e2ehtml writes the HTML report of one sample model, for make e2e
// (scripts/e2e.sh) to open in a real browser.
//
//	go run ./report/internal/e2ehtml -case go-server-leak -o out/e2e/report.html
//	go run ./report/internal/e2ehtml -case stuck -sockets 45000 -procs 4 -o out/e2e/stuck.html
//
// The case "stuck" is sample.Stuck: a synthetic incident of any size.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

func main() {
	name := flag.String("case", "go-server-leak", "sample model to render")
	out := flag.String("o", "report.html", "HTML file to write")
	sockets := flag.Int("sockets", 50, "stuck sockets of the case stuck")
	procs := flag.Int("procs", 1, "processes of the case stuck")
	flag.Parse()
	cases := sample.Cases()
	cases = append(cases, sample.Case{Name: "stuck", Model: func() *report.Model { return sample.Stuck(*sockets, *procs) }})
	if err := run(cases, *name, *out); err != nil {
		fmt.Fprintln(os.Stderr, "e2ehtml:", err)
		os.Exit(1)
	}
}

func run(cases []sample.Case, name, out string) error {
	for _, c := range cases {
		if c.Name != name {
			continue
		}
		m := c.Model()
		if err := m.Finalize(); err != nil {
			return fmt.Errorf("finalize %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := report.WriteHTML(&buf, m); err != nil {
			return err
		}
		return os.WriteFile(out, buf.Bytes(), 0o644)
	}
	return fmt.Errorf("no sample %q", name)
}
