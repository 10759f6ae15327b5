//go:build pcap

package pcapstate

import (
	"errors"
	"fmt"
	"time"

	"github.com/cwforensics/cwforensics/pcapstate/filter"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

// bpfFilter compiles the expression once per link type, with libpcap.
type bpfFilter struct {
	expr    string
	progs   map[uint32]*pcap.BPF
	scratch []byte // an SLL2 frame rewritten as SLL
}

// Link types the filter rewrites: gopacket's binding takes 8-bit link
// types, so a LINUX_SLL2 frame (tcpdump -i any) is matched as the LINUX_SLL
// frame with the same fields.
const (
	rawLinkSLL  = 113
	rawLinkSLL2 = 276
)

// newFilter returns the matcher of a filter expression, nil for none. The
// libpcap build uses the pure-Go filter for what it supports, which the
// differential test (TestFilterDiff) holds to libpcap's answers packet by
// packet, and libpcap for the rest of tcpdump's language and for link
// types the pure-Go filter does not know.
func newFilter(expr string) (matcher, error) {
	if expr == "" {
		return nil, nil
	}
	g, err := newGoFilter(expr)
	if err == nil {
		g.fallback = func() (matcher, error) { return newBPFFilter(expr) }
		return g, nil
	}
	if !errors.Is(err, filter.ErrUnsupported) {
		return nil, err
	}
	return newBPFFilter(expr)
}

// newBPFFilter compiles expr with libpcap.
func newBPFFilter(expr string) (*bpfFilter, error) {
	f := &bpfFilter{expr: expr, progs: map[uint32]*pcap.BPF{}}
	// Compile for Ethernet now so that a bad expression fails before any
	// file is read.
	if _, err := f.prog(uint32(layers.LinkTypeEthernet)); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *bpfFilter) prog(lt uint32) (*pcap.BPF, error) {
	if p, ok := f.progs[lt]; ok {
		return p, nil
	}
	switch lt {
	case rawLinkSLL2:
		lt = rawLinkSLL
	case 101:
		// LINKTYPE_RAW in files is DLT_RAW (12 on Linux) for libpcap,
		// which maps it when it reads a file.
		lt = 12
	}
	if lt > 255 {
		// gopacket's libpcap binding passes link types as 8 bits.
		return nil, fmt.Errorf("compile filter %q: link type %s is not supported by the libpcap binding; filter the capture with tcpdump -r IN -w OUT first", f.expr, linkName(lt))
	}
	p, err := pcap.NewBPF(layers.LinkType(lt), 262144, f.expr)
	if err != nil {
		return nil, fmt.Errorf("compile filter %q for link type %s: %w", f.expr, linkName(lt), err)
	}
	f.progs[lt] = p
	return p, nil
}

func (f *bpfFilter) match(rec *record) (bool, error) {
	p, err := f.prog(rec.rawLink)
	if err != nil {
		return false, err
	}
	data, origLen := rec.data, rec.origLen
	if rec.rawLink == rawLinkSLL2 {
		if data, err = f.sll2AsSLL(data); err != nil {
			return false, nil // too short for its link header: no match
		}
		origLen -= 4
	}
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, rec.ts), CaptureLength: len(data), Length: origLen}
	return p.Matches(ci, data), nil
}

// sll2AsSLL rewrites a 20-byte SLL2 header (protocol, reserved, interface
// index, ARPHRD type, packet type, address length, address) as the 16-byte
// SLL header (packet type, ARPHRD type, address length, address,
// protocol), into a scratch buffer.
func (f *bpfFilter) sll2AsSLL(d []byte) ([]byte, error) {
	if len(d) < 20 {
		return nil, errShortSLL2
	}
	n := len(d) - 4
	if cap(f.scratch) < n {
		f.scratch = make([]byte, n, max(n, 65536))
	}
	out := f.scratch[:n]
	out[0], out[1] = 0, d[10]     // packet type
	out[2], out[3] = d[8], d[9]   // ARPHRD type
	out[4], out[5] = 0, d[11]     // address length
	copy(out[6:14], d[12:20])     // address
	out[14], out[15] = d[0], d[1] // protocol
	copy(out[16:], d[20:])
	return out, nil
}

var errShortSLL2 = errors.New("frame shorter than its SLL2 header")
