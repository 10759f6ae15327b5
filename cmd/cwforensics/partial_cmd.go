package main

import (
	"fmt"
	"io"

	"github.com/cwforensics/cwforensics/analysis"
	"github.com/cwforensics/cwforensics/pcapstate"
)

// PartialCmd writes the partial state of a slice of the captures.
type PartialCmd struct {
	Output    string   `short:"o" required:"" placeholder:"FILE" env:"CWFORENSICS_PARTIAL_OUTPUT" help:"File to write the partial state to (written atomically: a failed run leaves no file); - is standard output."`
	Filter    string   `placeholder:"EXPR" env:"CWFORENSICS_PARTIAL_FILTER,CWFORENSICS_FILTER" help:"Keep only packets matching this tcpdump filter expression; conns and analyze must then read the partial state with the same --filter. Partial states among the inputs must have been written with it; without it, theirs carries over (and filters the captures given with them)."`
	Progress  string   `default:"auto" enum:"auto,always,never" env:"CWFORENSICS_PARTIAL_PROGRESS,CWFORENSICS_PROGRESS" help:"Show a progress line on stderr while reading: auto, always, never (${enum})."`
	StdinName string   `name:"stdin-name" placeholder:"NAME" env:"CWFORENSICS_PARTIAL_STDIN_NAME" help:"Name standard input (-) NAME in positions and the partial state, instead of stdin: the name of the capture piped in (host-3.pcap), so that captures piped on several hosts can be merged."`
	Captures  []string `arg:"" name:"capture" help:"Capture files of the slice: pcap or pcapng, optionally gzip-compressed, partial states to merge, or folders of them; - is standard input; several are merged in timestamp order."`
}

// Help is shown below the flags by --help.
func (c *PartialCmd) Help() string {
	return `A partial state holds what the state engine takes from each packet of the
captures, about a tenth of their size. conns and analyze read partial states
wherever they read captures (they are recognised by content) and merge them in
time order: the result is the one reading all the captures at once gives,
whatever the slices (a connection cut by a slice boundary continues in the
next). Write one partial state per slice, on as many machines or cores as you
like, then read them all together: see docs/scale.md. Partial states given to
partial are merged into one, which holds their captures: a fleet's partial
states can be reduced in a tree (64 into 8 into 1) before the last read.

Examples:
  cwforensics partial -o slice-03.cwfp capture-03.pcap.gz
  ls capture-*.pcap.gz | xargs -P 8 -I{} cwforensics partial --progress never -o {}.cwfp {}
  cwforensics partial -o rack-1.cwfp host-1*.cwfp
  cwforensics analyze -o report.html capture-*.pcap.gz.cwfp ss.txt jstack.txt`
}

// Run reads the captures and writes their partial state.
func (c *PartialCmd) Run(e *env) error {
	srcs, err := analysis.Walk(c.Captures, analysis.WalkOptions{Stdin: e.Stdin, StdinName: c.StdinName})
	if err != nil {
		return err
	}
	if c.Output == "-" {
		if _, tty := terminalFD(e.Stdout); tty {
			return &exitError{exitUsage, fmt.Errorf("-o -: standard output is a terminal; a partial state is binary: redirect it to a file or a pipe")}
		}
	} else if err := checkOutputs([]string{c.Output}, srcs); err != nil {
		return err
	}
	var read meter
	srcs = countSources(srcs, &read)
	stop := startProgress(e, c.Progress, &read)
	opts := pcapstate.Options{Filter: c.Filter, Packets: &read.packets}
	var st pcapstate.PartialStats
	write := func(w io.Writer) error {
		var skipped []warning
		s, ins, err := analysis.WritePartial(e.Ctx, srcs, w, opts)
		for _, in := range ins {
			skipped = append(skipped, warning{in.Path, in.Status.String() + ": " + in.Reason})
		}
		for _, f := range s.Captures {
			if f.Ignored != "" {
				skipped = append(skipped, warning{f.Name, "no TCP segment, conns and analyze will ignore it: " + f.Ignored})
			}
		}
		stop()
		warn(e.Stderr, skipped)
		st = s
		return err
	}
	if c.Output == "-" {
		err = write(e.Stdout)
	} else {
		err = writeAtomic(c.Output, func(w *bufioWriter) error { return write(w) })
	}
	stop()
	if err != nil {
		return err
	}
	merged := ""
	if st.Merged > 0 {
		merged = fmt.Sprintf(" (%s merged)", plural(st.Merged, "partial state"))
	}
	fmt.Fprintf(e.Stderr, "partial: %s%s, %d packets (%d TCP segments): %s written to %s%s\n",
		plural(st.Files, "capture"), merged, st.Packets, st.Segments, formatBytes(st.Bytes), c.Output, sizeRatio(st, read.total))
	return nil
}

// sizeRatio compares the partial state written (st) with the inputs read
// (total bytes): ", 1/9.8 of the captures' 1.4 GiB" when it is smaller
// than captures alone, else ", 1.05 times the inputs' ..." (a merge, or
// captures too small for the header to be paid back); "" when either is
// empty.
func sizeRatio(st pcapstate.PartialStats, total int64) string {
	switch {
	case total <= 0 || st.Bytes <= 0:
		return ""
	case st.Merged == 0 && st.Bytes < total:
		return fmt.Sprintf(", 1/%.1f of the captures' %s", float64(total)/float64(st.Bytes), formatBytes(total))
	}
	return fmt.Sprintf(", %.2f times the inputs' %s", float64(st.Bytes)/float64(total), formatBytes(total))
}
