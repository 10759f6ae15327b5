package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strconv"

	"github.com/cwforensics/cwforensics/internal/ordered"
)

// The findings and the warnings are written field by field, as the
// sockets are (appendSocket), in the bytes encoding/json's indented
// encoding made safe by writeSafe would give: a large incident's findings
// cite every socket twice (its key in sockets, its positions in
// evidence), 8.6 MB of the reference capture's report (50,000 stuck
// sockets), which encoding/json's reflection, its indenting and
// writeSafe's second pass took 86 ms to write, a tenth of analyze's CPU
// after the capture is read. TestWriteJSONEveryField and
// FuzzWriteJSONFinding hold them to the encoder's bytes.

// The indents of the findings' lines: a finding is an element of the
// top-level findings list, its fields one level deeper, and so on.
const (
	inFinding = "\n    "         // a finding's braces
	inField   = "\n      "       // its fields
	inItem    = "\n        "     // the items of its lists, its process's fields
	inSub     = "\n          "   // the fields of its suspects, flows, claims and advice
	inSubItem = "\n            " // the items of their lists
)

// jsonOut is the JSON written so far and not yet handed to w: a finding
// is appended to b, and b written out before a long list of it, which is
// encoded straight into w.
type jsonOut struct {
	w *bufio.Writer
	b []byte
}

func (o *jsonOut) write(b []byte) error {
	if _, err := o.w.Write(b); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

func (o *jsonOut) flush() error {
	err := o.write(o.b)
	o.b = o.b[:0]
	return err
}

// listChunk is how many items of a list one goroutine encodes at a time,
// and the length from which a list is encoded in chunks on up to 4 cores.
const listChunk = 2048

// listOf appends vs as an indented array under a field whose line starts
// with in: null when nil, "[]" when empty. item appends one item, and may
// be called for several items at once: a list of listChunk items or more
// (a finding's sockets, the report's sockets and warnings) is encoded a
// chunk at a time on up to 4 cores and written in order. A short list of
// a finding is written by appendScalars.
func listOf[T any](o *jsonOut, vs []T, in string, item func(b []byte, v *T) ([]byte, error)) error {
	encode := func(b []byte, from, to int) ([]byte, error) {
		for i := from; i < to; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, in...)
			b = append(b, "  "...)
			var err error
			if b, err = item(b, &vs[i]); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	switch n := len(vs); {
	case vs == nil:
		o.b = append(o.b, "null"...)
		return nil
	case n == 0:
		o.b = append(o.b, "[]"...)
		return nil
	case n < listChunk:
		o.b = append(o.b, '[')
		var err error
		if o.b, err = encode(o.b, 0, n); err != nil {
			return err
		}
	default:
		o.b = append(o.b, '[')
		if err := o.flush(); err != nil {
			return err
		}
		if err := ordered.Encode(n, listChunk, runtime.GOMAXPROCS(0), encode, o.write); err != nil {
			return err
		}
	}
	o.b = append(o.b, in...)
	o.b = append(o.b, ']')
	return nil
}

// writeFindings writes the model's findings list as its encoding would
// indent it under the top-level "findings" field.
func writeFindings(w *bufio.Writer, fs []Finding) error {
	o := &jsonOut{w: w}
	switch {
	case fs == nil:
		o.b = append(o.b, "null"...)
	case len(fs) == 0:
		o.b = append(o.b, "[]"...)
	default:
		o.b = append(o.b, '[')
		for i := range fs {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, inFinding...)
			if err := o.finding(&fs[i]); err != nil {
				return err
			}
		}
		o.b = append(o.b, "\n  ]"...)
	}
	return o.flush()
}

// finding appends f, in the order of Finding's fields.
func (o *jsonOut) finding(f *Finding) error {
	b := append(o.b, "{"+inField+`"id": `...)
	b = appendJSONString(b, f.ID)
	b = append(b, ","+inField+`"category": `...)
	b = appendJSONString(b, f.Category.String())
	b = append(b, ","+inField+`"mechanism": `...)
	b = appendJSONString(b, f.Mechanism.String())
	if f.Group != "" {
		b = append(b, ","+inField+`"group": `...)
		b = appendJSONString(b, f.Group)
	}
	b = append(b, ","+inField+`"severity": `...)
	b = appendJSONString(b, f.Severity.String())
	b = append(b, ","+inField+`"severity_reasons": `...)
	b = appendStrings(b, f.SeverityReasons, inField)
	b = append(b, ","+inField+`"confidence": `...)
	b, err := appendFloat(b, f.Confidence)
	if err != nil {
		return fmt.Errorf("render json report: finding %s: confidence: %w", f.ID, err)
	}
	b = append(b, ","+inField+`"confidence_label": `...)
	b = appendJSONString(b, f.ConfidenceLabel)
	b = append(b, ","+inField+`"title": `...)
	b = appendJSONString(b, f.Title)
	b = append(b, ","+inField+`"process": `...)
	b = appendProcess(b, &f.Process)
	b = append(b, ","+inField+`"sockets": `...)
	o.b = b
	if err := listOf(o, f.Sockets, inField, func(b []byte, s *string) ([]byte, error) { return appendJSONString(b, *s), nil }); err != nil {
		return err
	}
	b = append(o.b, ","+inField+`"socket_count": `...)
	b = strconv.AppendInt(b, int64(f.SocketCount), 10)
	b = append(b, ","+inField+`"flows": `...)
	o.b = b
	if err := listOf(o, f.Flows, inField, func(b []byte, fl *Flow) ([]byte, error) { return appendFlow(b, fl), nil }); err != nil {
		return err
	}
	b = append(o.b, ","+inField+`"oldest": `...)
	b = appendJSONString(b, f.OldestText)
	b = append(b, ","+inField+`"holders": `...)
	b = strconv.AppendInt(b, int64(f.Holders), 10)
	b = append(b, ","+inField+`"waiters": `...)
	b = strconv.AppendInt(b, int64(f.Waiters), 10)
	b = append(b, ","+inField+`"suspects": `...)
	b = appendSuspects(b, f.Suspects)
	b = append(b, ","+inField+`"supporting": `...)
	b = appendClaims(b, f.Supporting)
	b = append(b, ","+inField+`"contradicting": `...)
	b = appendClaims(b, f.Contradicting)
	b = append(b, ","+inField+`"evidence": `...)
	o.b = b
	if err := listOf(o, f.Evidence, inField, func(b []byte, p *Pos) ([]byte, error) { return appendPos(b, *p), nil }); err != nil {
		return err
	}
	b = append(o.b, ","+inField+`"advice": `...)
	b = appendAdvice(b, f.Advice)
	if f.Note != "" {
		b = append(b, ","+inField+`"note": `...)
		b = appendJSONString(b, f.Note)
	}
	if f.LastExchange != LastUnknown { // omitempty: the zero value
		b = append(b, ","+inField+`"last_exchange": `...)
		b = appendJSONString(b, f.LastExchange.String())
	}
	if f.Upgrade != UpgradeNone { // omitempty: the zero value
		b = append(b, ","+inField+`"upgrade": `...)
		b = appendJSONString(b, f.Upgrade.String())
	}
	o.b = append(b, inFinding+"}"...)
	if len(o.b) >= 64<<10 {
		return o.flush()
	}
	return nil
}

// appendProcess appends a finding's process.
func appendProcess(b []byte, p *Process) []byte {
	b = append(b, "{"+inItem+`"pid": `...)
	b = strconv.AppendInt(b, int64(p.PID), 10)
	b = append(b, ","+inItem+`"name": `...)
	b = appendJSONString(b, p.Name)
	b = append(b, ","+inItem+`"runtime": `...)
	b = appendJSONString(b, p.Runtime.String())
	if p.Cmdline != "" {
		b = append(b, ","+inItem+`"cmdline": `...)
		b = appendJSONString(b, p.Cmdline)
	}
	if !p.NameFrom.IsZero() { // omitzero calls IsZero
		b = append(b, ","+inItem+`"name_source": `...)
		b = appendPos(b, p.NameFrom)
	}
	if !p.CmdlineFrom.IsZero() {
		b = append(b, ","+inItem+`"cmdline_source": `...)
		b = appendPos(b, p.CmdlineFrom)
	}
	if p.CmdlineByName {
		b = append(b, ","+inItem+`"cmdline_by_name": true`...)
	}
	if p.CmdlineHow != "" {
		b = append(b, ","+inItem+`"cmdline_how": `...)
		b = appendJSONString(b, p.CmdlineHow)
	}
	return append(b, inField+"}"...)
}

// appendFlow appends a flow of a finding.
func appendFlow(b []byte, f *Flow) []byte {
	b = append(b, "{"+inSub+`"local": `...)
	b = appendJSONString(b, f.Local)
	b = append(b, ","+inSub+`"remote": `...)
	b = appendJSONString(b, f.Remote)
	b = append(b, ","+inSub+`"count": `...)
	b = strconv.AppendInt(b, int64(f.Count), 10)
	b = append(b, ","+inSub+`"oldest": `...)
	b = appendJSONString(b, f.Oldest)
	return append(b, inItem+"}"...)
}

// appendSuspects appends a finding's suspects.
func appendSuspects(b []byte, ss []Suspect) []byte {
	return appendScalars(b, ss, inField, appendSuspect)
}

// appendSuspect appends a suspect, an item of a finding's suspects.
func appendSuspect(b []byte, s *Suspect) []byte {
	b = append(b, "{"+inSub+`"id": `...)
	b = appendJSONString(b, s.ID)
	b = append(b, ","+inSub+`"kind": `...)
	b = appendJSONString(b, s.Kind.String())
	b = append(b, ","+inSub+`"name": `...)
	b = appendJSONString(b, s.Name)
	b = append(b, ","+inSub+`"state": `...)
	b = appendJSONString(b, s.State)
	b = append(b, ","+inSub+`"wait_ns": `...)
	b = strconv.AppendInt(b, int64(s.Wait), 10)
	b = append(b, ","+inSub+`"wait": `...)
	b = appendJSONString(b, s.WaitText)
	b = append(b, ","+inSub+`"count": `...)
	b = strconv.AppendInt(b, int64(s.Count), 10)
	b = append(b, ","+inSub+`"frames": `...)
	b = appendStrings(b, s.Frames, inSub)
	b = append(b, ","+inSub+`"culprit": `...)
	b = appendJSONString(b, s.Culprit)
	b = append(b, ","+inSub+`"role": `...)
	b = appendJSONString(b, s.Role.String())
	b = append(b, ","+inSub+`"link": `...)
	b = appendJSONString(b, s.Link.String())
	b = append(b, ","+inSub+`"why": `...)
	b = appendStrings(b, s.Why, inSub)
	b = append(b, ","+inSub+`"evidence": `...)
	b = appendPositions(b, s.Evidence, inSub)
	if len(s.Locks) > 0 {
		b = append(b, ","+inSub+`"locks": `...)
		b = appendStrings(b, s.Locks, inSub)
	}
	return append(b, inItem+"}"...)
}

// appendClaims appends a finding's supporting or contradicting claims.
func appendClaims(b []byte, cs []Claim) []byte {
	return appendScalars(b, cs, inField, func(b []byte, c *Claim) []byte {
		b = append(b, "{"+inSub+`"text": `...)
		b = appendJSONString(b, c.Text)
		b = append(b, ","+inSub+`"evidence": `...)
		b = appendPositions(b, c.Evidence, inSub)
		return append(b, inItem+"}"...)
	})
}

// appendAdvice appends a finding's advice.
func appendAdvice(b []byte, as []Advice) []byte {
	return appendScalars(b, as, inField, func(b []byte, a *Advice) []byte {
		b = append(b, "{"+inSub+`"runtime": `...)
		b = appendJSONString(b, a.Runtime.String())
		b = append(b, ","+inSub+`"text": `...)
		b = appendJSONString(b, a.Text)
		b = append(b, ","+inSub+`"stopgap": `...)
		b = strconv.AppendBool(b, a.Stopgap)
		if a.Why != "" {
			b = append(b, ","+inSub+`"why": `...)
			b = appendJSONString(b, a.Why)
		}
		if a.Config != "" {
			b = append(b, ","+inSub+`"config": `...)
			b = appendJSONString(b, a.Config)
		}
		return append(b, inItem+"}"...)
	})
}

// appendStrings appends a list of strings under a field whose line
// starts with in: null when nil.
func appendStrings(b []byte, ss []string, in string) []byte {
	return appendScalars(b, ss, in, func(b []byte, s *string) []byte { return appendJSONString(b, *s) })
}

// appendPositions appends a list of positions as appendStrings does.
func appendPositions(b []byte, ps []Pos, in string) []byte {
	return appendScalars(b, ps, in, func(b []byte, p *Pos) []byte { return appendPos(b, *p) })
}

// appendScalars appends a list of values, each on its line one level
// under a field whose line starts with in, as appendValue writes it (an
// object's lines are indented by appendValue): null when nil.
func appendScalars[T any](b []byte, vs []T, in string, appendValue func([]byte, *T) []byte) []byte {
	if vs == nil {
		return append(b, "null"...)
	}
	if len(vs) == 0 {
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, in...)
		b = append(b, "  "...)
		b = appendValue(b, &vs[i])
	}
	b = append(b, in...)
	return append(b, ']')
}

// appendPos appends p quoted as its MarshalText, p.String(), would be,
// without making the string: a large finding cites 100,000 positions.
// The suffixes are ASCII, so the file name is escaped as it would be as
// part of the whole.
func appendPos(b []byte, p Pos) []byte {
	b = append(b, '"')
	switch p.Kind {
	case PosLine:
		b = appendJSONText(b, p.File)
		b = append(b, ':')
		b = strconv.AppendUint(b, p.N, 10)
	case PosPacket:
		b = appendJSONText(b, p.File)
		b = append(b, ": packet "...)
		b = strconv.AppendUint(b, p.N, 10)
	case PosFile, PosSource:
		b = appendJSONText(b, p.File)
	}
	return append(b, '"')
}

// appendFloat appends f as encoding/json writes a float64: the shortest
// decimal that reads back as f, in exponent form below 1e-6 and from
// 1e21, with a two-digit exponent cut to one ("1e-07" is "1e-7"). NaN
// and the infinities have no JSON: the error is encoding/json's.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b, nil
}

// writeWarnings writes the model's warnings list as its encoding would
// indent it under the top-level "warnings" field: a capture or a listing
// damaged throughout warns of each bad packet or line.
func writeWarnings(w *bufio.Writer, ws []Warning) error {
	o := &jsonOut{w: w}
	if err := listOf(o, ws, "\n  ", func(b []byte, w *Warning) ([]byte, error) {
		b = append(b, "{\n      \"pos\": "...)
		b = appendPos(b, w.Pos)
		b = append(b, ",\n      \"msg\": "...)
		b = appendJSONString(b, w.Msg)
		return append(b, "\n    }"...), nil
	}); err != nil {
		return err
	}
	return o.flush()
}
