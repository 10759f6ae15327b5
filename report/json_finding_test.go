package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/report"
	"github.com/cwforensics/cwforensics/report/internal/sample"
)

// TestWriteJSONEveryField: WriteJSON, which writes the findings, the
// sockets and the warnings field by field, gives the bytes of the whole
// model encoded by encoding/json and made safe, on a model whose every
// field of every type is set (so that a field added to Finding or to a
// type under it without its appender fails here), with awkward strings,
// numbers and positions, on models whose lists are all empty or all nil,
// whose fields are all zero (the omitempty ones left out), and whose
// findings' and warnings' lists are long enough to be written in chunks.
func TestWriteJSONEveryField(t *testing.T) {
	full := func(t *testing.T) *report.Model {
		m := fillModel(t, fillFull, 2)
		if path := zeroField(reflect.ValueOf(m).Elem(), "Model"); path != "" {
			t.Fatalf("%s is zero in the model with every field set", path)
		}
		return m
	}
	for _, tt := range []struct {
		name  string
		model func(t *testing.T) *report.Model
	}{
		{"every field", full},
		{"every field, one of each", func(t *testing.T) *report.Model { return fillModel(t, fillFull, 1) }},
		{"empty lists", func(t *testing.T) *report.Model { return fillModel(t, fillFull, 0) }},
		{"zero fields", func(t *testing.T) *report.Model { return fillModel(t, fillZero, 1) }},
		{"nil lists", func(t *testing.T) *report.Model { return fillModel(t, fillZero, 0) }},
		{"zero model", func(*testing.T) *report.Model { return &report.Model{} }},
		{"long lists", func(t *testing.T) *report.Model {
			m := full(t)
			f := &m.Findings[1]
			f.Sockets = grow(t, f.Sockets, 2048) // a chunk, then the boundary
			f.Evidence = grow(t, f.Evidence, 4097)
			f.Flows = grow(t, f.Flows, 2047)
			m.Warnings = grow(t, m.Warnings, 6000)
			return m
		}},
		{"large incident", func(t *testing.T) *report.Model {
			m := sample.Stuck(9000, 2)
			if err := m.Finalize(); err != nil {
				t.Fatal(err)
			}
			return m
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writesAsEncoded(t, tt.model(t))
		})
	}
}

// TestWriteJSONUnsupportedFloat: a finding's confidence that JSON cannot
// write is an error, encoding/json's, as it was when encoding/json wrote
// the findings.
func TestWriteJSONUnsupportedFloat(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		m := sample.Stuck(10, 1)
		if err := m.Finalize(); err != nil {
			t.Fatal(err)
		}
		m.Findings[0].Confidence = f
		var unsupported *json.UnsupportedValueError
		if err := report.WriteJSON(&bytes.Buffer{}, m); !errors.As(err, &unsupported) {
			t.Errorf("confidence %v: error %v, want a json.UnsupportedValueError", f, err)
		}
	}
}

// FuzzWriteJSONFinding: a finding with any strings, confidence, counts
// and positions, and a warning, are written as encoding/json writes them,
// made safe; a confidence JSON has no number for is an error.
func FuzzWriteJSONFinding(f *testing.F) {
	f.Add("pool-leak-1", sample.HostileText, "capture.pcap", 0.8, uint64(51234), 3, uint8(2), false)
	f.Add("", "", "", 1e-7, uint64(0), 0, uint8(0), true)
	f.Add("x\u2028", "\xff<&>\u202e", "ss.txt:9", 1e21, uint64(1<<63), -7, uint8(9), false)
	f.Add("id", "q\"\\", "f", -2.5e-300, uint64(7), 1<<40, uint8(4), true)
	f.Fuzz(func(t *testing.T, id, text, file string, confidence float64, n uint64, count int, kind uint8, empty bool) {
		pos := report.Pos{Kind: report.PosKind(kind % 6), File: file, N: n}
		list := []string{text, id}
		ps := []report.Pos{pos, report.FilePos(text)}
		if empty {
			list, ps = []string{}, nil
		}
		m := sample.Empty()
		m.Findings = []report.Finding{{
			ID: id, Category: report.Category(kind), Group: text, SeverityReasons: list, Confidence: confidence,
			ConfidenceLabel: text, Title: text, Process: report.Process{PID: count, Name: text, Cmdline: text, NameFrom: pos, CmdlineHow: text},
			Sockets: list, SocketCount: count, Flows: []report.Flow{{Local: text, Remote: id, Count: count, Oldest: file}},
			Suspects:   []report.Suspect{{ID: id, Name: text, Wait: time.Duration(count), Frames: list, Why: list, Evidence: ps, Locks: list}},
			Supporting: []report.Claim{{Text: text, Evidence: ps}}, Evidence: ps, Note: text, LastExchange: report.Exchange(kind % 7),
			Advice: []report.Advice{{Text: text, Why: text, Config: file, Stopgap: empty}},
		}}
		m.Warnings = []report.Warning{{Pos: pos, Msg: text}}
		var got bytes.Buffer
		err := report.WriteJSON(&got, m)
		if math.IsNaN(confidence) || math.IsInf(confidence, 0) {
			if err == nil {
				t.Fatalf("confidence %v written without an error", confidence)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := encodedWhole(t, m); !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("got\n%s\nwant\n%s", got.Bytes(), want)
		}
	})
}

// fillMode says what fillModel sets: every field to a value that is not
// zero, or every field to its zero.
type fillMode int

const (
	fillFull fillMode = iota
	fillZero
)

// fillModel is a model whose every field is filled as mode says, with
// lists of n items (nil lists for none in fillZero, empty ones in
// fillFull). Every kind of field the model's types hold has a case; a
// kind without one fails the test, so that a new field cannot be left
// out unseen.
func fillModel(t *testing.T, mode fillMode, n int) *report.Model {
	f := &filler{t: t, mode: mode, items: n}
	var m report.Model
	f.fill(reflect.ValueOf(&m).Elem(), "Model")
	return &m
}

// grow is list with items added, filled as the model with every field
// set, up to n.
func grow[T any](t *testing.T, list []T, n int) []T {
	f := &filler{t: t, mode: fillFull, items: 1, n: len(list) * 7}
	for len(list) < n {
		var v T
		f.fill(reflect.ValueOf(&v).Elem(), fmt.Sprintf("item %d", len(list)))
		list = append(list, v)
	}
	return list
}

type filler struct {
	t     *testing.T
	mode  fillMode
	items int
	n     int // values made so far, to vary them
}

// awkward are strings that JSON and the report escape: HTML, line and
// paragraph separators, controls (C0, DEL, C1), invalid UTF-8, bidi
// overrides, a byte order mark, quotes and backslashes, and text that
// needs none.
var awkward = []string{
	sample.HostileText, "<a href=\"x\">&amp;</a>", "line\u2028para\u2029", "\x00\x01\x1f\x7f\u0085\u009f",
	"bad \xff\xfe utf-8 \xe2\x82", "\u202eexe.txt\u2066\u200f\ufeff", `q"uote\back\slash/`, "tab\tnew\nline\r\b\f",
	"é 😀 \ufffd", "plain",
}

// floats are the floats encoding/json writes in each of its forms:
// plain decimals, exponents below 1e-6 and from 1e21, the extremes.
var floats = []float64{0.8, 1e-7, 1.5e-300, 1e21, 123456789.125, -0.5, 5e-324, math.MaxFloat64, 0.1, 1e20, -2.5e-9}

func (f *filler) fill(v reflect.Value, path string) {
	f.n++
	zero := f.mode == fillZero
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		if !zero {
			at := time.Unix(1_700_000_000+int64(f.n)*977, int64(f.n)*1_000_003%1e9).UTC()
			if f.n%2 == 0 {
				at = at.In(time.FixedZone("", -(3*3600 + 30*60)))
			}
			v.Set(reflect.ValueOf(at))
		}
		return
	case reflect.TypeFor[netip.Addr]():
		if !zero {
			addrs := []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(f.n), 1}), netip.MustParseAddr("2001:db8::1"),
				netip.MustParseAddr("::ffff:192.0.2.7"), netip.MustParseAddr("fe80::1%eth0")}
			v.Set(reflect.ValueOf(addrs[f.n%len(addrs)]))
		}
		return
	case reflect.TypeFor[report.Pos]():
		if !zero {
			v.Set(reflect.ValueOf(report.Pos{Kind: report.PosKind(1 + f.n%4), File: awkward[f.n%len(awkward)], N: uint64(f.n) * 1_000_003}))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				f.t.Fatalf("%s.%s is unexported: fill does not know how to set it", path, sf.Name)
			}
			f.fill(v.Field(i), path+"."+sf.Name)
		}
	case reflect.Slice:
		if zero && f.items == 0 {
			return // nil
		}
		v.Set(reflect.MakeSlice(v.Type(), f.items, f.items))
		for i := range f.items {
			f.fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if !zero {
			v.SetString(fmt.Sprintf("%s%d", awkward[f.n%len(awkward)], f.n))
		}
	case reflect.Bool:
		v.SetBool(!zero)
	case reflect.Int, reflect.Int64:
		if !zero {
			v.SetInt(int64(f.n) * []int64{1, -1, 1_000_000_007}[f.n%3])
		}
	case reflect.Uint8:
		if !zero { // an enum: a named value, or one past them
			v.SetUint(uint64(1 + f.n%8))
		}
	case reflect.Uint16, reflect.Uint64:
		if !zero {
			v.SetUint(uint64(f.n))
		}
	case reflect.Float64:
		if !zero {
			v.SetFloat(floats[f.n%len(floats)])
		}
	default:
		f.t.Fatalf("%s is a %s: fill has no case for it", path, v.Type())
	}
}

// zeroField is the path of the first field under v that is zero, "" when
// none is.
func zeroField(v reflect.Value, path string) string {
	if v.IsZero() {
		return path
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() || v.Type() == reflect.TypeFor[netip.Addr]() {
			return ""
		}
		for i := range v.NumField() {
			if p := zeroField(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if p := zeroField(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}
