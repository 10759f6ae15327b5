package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// captureFile is the capture's name in the folder.
const captureFile = "capture.pcap"

// captureFilter is the tcpdump filter: TCP, on the given ports.
func captureFilter(ports []int) string {
	if len(ports) == 0 {
		return "tcp"
	}
	var parts []string
	for _, p := range uniqueSorted(ports) {
		parts = append(parts, "port "+strconv.Itoa(p))
	}
	return "tcp and (" + strings.Join(parts, " or ") + ")"
}

// captureCommand is the tcpdump command: packets to stdout as they come
// (-U), whole (-s 0), no name look-ups (-n). The duration is enforced by
// stopping it with SIGINT, the size by cutting its stream at a packet
// (tcpdump's own -C rotates files instead of stopping).
func captureCommand(iface string, ports []int) Command {
	return Command{Name: "tcpdump", Args: []string{"-i", iface, "-n", "-U", "-s", "0", "-w", "-", captureFilter(ports)}, Interrupt: true}
}

// startCapture starts the capture when a duration is set and tcpdump is
// installed, and waits (up to 5 s) until tcpdump says it is listening, so
// the listings taken next fall inside it. The channel closes when the
// capture has ended.
func (c *collector) startCapture(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	cmd := captureCommand(c.o.Interface, c.o.Ports)
	st := c.step(phaseCapture, Step{Name: "capture", Argv: cmd.Argv()})
	if c.o.Duration <= 0 {
		st.Status, st.Note = StatusSkipped, "--duration 0: no capture"
		c.done(st)
		close(done)
		return done
	}
	if _, err := c.o.Runner.LookPath(cmd.Name); err != nil {
		st.Status, st.Note = StatusMissing, "tcpdump is not installed: no capture"
		c.done(st)
		close(done)
		return done
	}
	f, err := c.output(captureFile)
	if err != nil {
		st.Status, st.Error = StatusFailed, err.Error()
		c.done(st)
		close(done)
		return done
	}
	st.Output = captureFile
	listening := make(chan struct{})
	var once, full onceFlag
	errb := &tailBuffer{max: stderrLimit, seen: func(b []byte) {
		if bytes.Contains(b, []byte("listening on")) {
			once.do(func() { close(listening) })
		}
	}}
	cctx, cancel := context.WithTimeout(ctx, c.o.Duration)
	cut := &pcapCutter{w: f, max: c.o.MaxCaptureSize, full: func() { full.do(cancel) }}
	if c.o.MaxCaptureSize <= 0 {
		cut.max = 1 << 62
	}
	st.Started = c.stamp()
	exited := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		defer f.Close()
		code, err := c.o.Runner.Run(cctx, cmd, cut, errb)
		close(exited)
		st.Finished = c.stamp()
		st.Size, st.Stderr = cut.written, errb.String()
		if code >= 0 {
			st.ExitCode = &code
		}
		switch {
		case full.happened():
			st.Status, st.Note = StatusOK, fmt.Sprintf("stopped at --max-capture-size %d bytes", c.o.MaxCaptureSize)
		case ctx.Err() != nil:
			st.Status, st.Error = StatusFailed, "interrupted"
		case errors.Is(cctx.Err(), context.DeadlineExceeded):
			st.Status, st.Note = StatusOK, fmt.Sprintf("stopped after --duration %s", c.o.Duration)
		case err != nil:
			st.Status, st.Error = StatusFailed, err.Error()
		case code != 0:
			st.Status, st.Error = StatusFailed, fmt.Sprintf("exit status %d", code)
		default:
			st.Status = StatusOK
		}
		c.done(st)
	}()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-listening:
	case <-exited:
	case <-t.C:
	case <-ctx.Done():
	}
	return done
}

// onceFlag is a sync.Once that can say whether it ran.
type onceFlag struct {
	mu  sync.Mutex
	ran bool
}

func (o *onceFlag) do(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ran {
		o.ran = true
		f()
	}
}

func (o *onceFlag) happened() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ran
}
