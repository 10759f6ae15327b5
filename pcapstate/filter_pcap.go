//go:build cgo && !nopcap

package pcapstate

import (
	"fmt"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

// FilterAvailable reports whether this build can apply BPF filters.
const FilterAvailable = true

// bpfFilter compiles the expression once per link type, with libpcap.
type bpfFilter struct {
	expr  string
	progs map[uint32]*pcap.BPF
}

func newFilter(expr string) (filter, error) {
	if expr == "" {
		return nil, nil
	}
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
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, rec.ts), CaptureLength: len(rec.data), Length: rec.origLen}
	return p.Matches(ci, rec.data), nil
}
