package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/cwforensics/cwforensics/analysis"
	"github.com/cwforensics/cwforensics/dumps"
)

// EvidenceCmd parses evidence files and prints their records.
type EvidenceCmd struct {
	Format    string   `default:"table" enum:"table,tsv,json" env:"CWFORENSICS_EVIDENCE_FORMAT" help:"Output format: table (aligned, for people), tsv (stable, for scripts) or json (${enum})."`
	StdinName string   `name:"stdin-name" placeholder:"NAME" env:"CWFORENSICS_EVIDENCE_STDIN_NAME" help:"Name standard input (-) NAME in positions, instead of stdin: the name of the file piped in (ss-host-3.txt)."`
	Files     []string `arg:"" help:"Evidence files: ss, lsof, netstat, /proc, jstack/jcmd, Go goroutine dumps or profiles, Python faulthandler/py-spy dumps, Node.js diagnostic reports, application logs (plain, gzip or UTF-16), or folders of them; - is standard input."`
}

// Help is shown below the flags by --help.
func (c *EvidenceCmd) Help() string {
	return `Each file's format is recognised from its content, not its name.
Warnings about malformed lines go to stderr (and into the JSON output).

Examples:
  cwforensics evidence ss.txt lsof.txt
  cwforensics evidence --format tsv jstack.txt > threads.tsv
  cwforensics evidence --format json goroutines.txt
  cwforensics evidence stderr.txt report.20261202.164320.4242.0.001.json app.log`
}

// evidenceSchemaVersion is the version of the JSON that evidence --format json
// writes; it changes when a field is renamed or removed.
const evidenceSchemaVersion = 1

// Run reads every file, then prints the records in the chosen format.
func (c *EvidenceCmd) Run(e *env) error {
	srcs, err := analysis.Walk(c.Files, analysis.WalkOptions{Stdin: e.Stdin, StdinName: c.StdinName})
	if err != nil {
		return err
	}
	evs, skipped, err := analysis.ReadEvidence(e.Ctx, srcs)
	if err != nil {
		return err
	}
	var ws []warning
	for _, in := range skipped {
		ws = append(ws, warning{in.Path, in.Status.String() + ": " + in.Reason})
	}
	for _, ev := range evs {
		for _, w := range ev.Warnings {
			ws = append(ws, warning{w.Pos.String(), w.Msg})
		}
	}
	warn(e.Stderr, ws)
	return writeEvidence(e.Stdout, c.Format, evs)
}

func writeEvidence(w io.Writer, format string, evs []*dumps.Evidence) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			SchemaVersion int               `json:"schema_version"`
			Files         []*dumps.Evidence `json:"files"`
		}{evidenceSchemaVersion, evs})
	}
	// One table per kind of record; a blank line separates them when the
	// files hold both sockets and threads.
	first := true
	tables := []*table{socketTable(evs), dumpTable(evs)}
	extra := append(socketExtraTables(evs), runtimeTables(evs)...)
	switch {
	case format == "table":
		// For people: ss -s summaries, fd listings, limits, the stack groups
		// and their evolution too (JSON has them all).
		tables = append(append(tables, extra...), bucketTable(evs), seriesTable(evs))
	case tables[0] == nil && tables[1] == nil:
		// The TSV keeps one kind of row per table: the other records only
		// when the files hold neither sockets nor threads.
		tables = extra
	}
	for _, t := range tables {
		if t == nil {
			continue
		}
		if !first {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		first = false
		var err error
		if format == "tsv" {
			err = t.writeTSV(w)
		} else {
			err = t.writeText(w)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
