package pcapstate

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/capgen"
)

// export describes c as seen at time end, into a Conn of its own: the
// tests' way to collect what the engine releases.
func (x *exporter) export(c *conn, end int64) Conn {
	var out Conn
	x.exportInto(&out, c, end)
	return out
}

// fillNonZero sets every field of v, recursively, to a value that is not
// its zero: what a reused slot of a batch may hold.
func fillNonZero(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		switch v.Type() {
		case reflect.TypeFor[time.Time]():
			v.Set(reflect.ValueOf(time.Date(1999, 1, 2, 3, 4, 5, 6, time.UTC)))
			return
		case reflect.TypeFor[netip.AddrPort]():
			v.Set(reflect.ValueOf(netip.MustParseAddrPort("[2001:db8::9]:9")))
			return
		}
		for i := range v.NumField() {
			fillNonZero(v.Field(i))
		}
	case reflect.String:
		v.SetString("stale")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(99)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(99)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillNonZero(s.Index(0))
		v.Set(s)
	default:
		panic("fillNonZero: " + v.Kind().String())
	}
}

// TestExportIntoEveryField: exportInto writes every field of the Conn it
// is given, so that a slot of a reused batch holding another connection
// (every field set) comes out as export's fresh Conn, for every
// connection of a load with leaks, open connections and anomalies.
func TestExportIntoEveryField(t *testing.T) {
	var capture bytes.Buffer
	if _, err := capgen.Load(&capture, capgen.LoadOptions{Conns: 600, Open: 80, LeakEvery: 7, Seed: 11, Step: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var stale Conn
	fillNonZero(reflect.ValueOf(&stale).Elem())
	var x *exporter
	n, cw := 0, 0
	check := func(c *conn, end int64) {
		// export and exportInto may each settle a FIN beyond a hole:
		// both work on copies of the conn.
		c1, c2 := *c, *c
		want := x.export(&c1, end)
		got := stale
		got.Anomalies = []Anomaly{{}} // a slice of the stale one's own
		x.exportInto(&got, &c2, end)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("connection %d: exportInto over a stale Conn gives\n%+v\nwant\n%+v", n, got, want)
		}
		if want.Verdict != NotCloseWait {
			cw++
		}
		n++
	}
	tr := newTracker(func(c *conn) { check(c, c.last) })
	defer tr.release()
	x = &exporter{names: []string{"load.pcap"}, tr: tr}
	pr, err := openCapture(bytes.NewReader(capture.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var (
		dec Decoder
		seg Segment
		rec record
	)
	var end int64
	for i := uint32(1); pr.next(&rec) == nil; i++ {
		if dec.Decode(rec.link, rec.data, &seg) == SkipNone {
			tr.add(&seg, rec.ts, ref{1, i})
			end = rec.ts
		}
	}
	// Those left at the end: the leaked ones among them, with a verdict.
	for _, ch := range tr.chunks {
		for j := range ch.conns {
			if c := &ch.conns[j]; c.live {
				check(c, end)
			}
		}
	}
	if n != 600 || cw < 600/7 {
		t.Fatalf("%d connections exported, %d in CLOSE_WAIT; want 600 and at least %d", n, cw, 600/7)
	}
}
