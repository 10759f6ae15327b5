package collect

import (
	"encoding/binary"
	"io"
)

// maxRecord bounds a record's length; a larger one means the stream is
// not what it seems.
const maxRecord = 1 << 26

// pcapCutter writes a pcap stream (tcpdump -w -) to w up to max bytes, cut
// at a packet boundary, so the file stays a valid capture. It calls full
// once, when the next packet would pass the limit; the rest of the stream is
// discarded. A stream that is not pcap (a tcpdump too old or odd) is written
// as is up to max.
type pcapCutter struct {
	w       io.Writer
	max     int64
	full    func()
	written int64
	buf     []byte // bytes of the record not yet complete
	order   binary.ByteOrder
	header  bool // the global header has been written (order is known once buf holds its magic)
	done    bool
	raw     bool // not pcap: byte limit only
}

func (c *pcapCutter) Write(p []byte) (int, error) {
	n := len(p)
	if c.done {
		return n, nil
	}
	c.buf = append(c.buf, p...)
	for !c.done {
		need := c.next()
		if need < 0 || len(c.buf) < need {
			break
		}
		if c.written+int64(need) > c.max {
			c.stop()
			break
		}
		if _, err := c.w.Write(c.buf[:need]); err != nil {
			return n, err
		}
		c.written += int64(need)
		c.buf = c.buf[need:]
		c.header = true
	}
	if c.raw && !c.done && len(c.buf) > 0 {
		room := c.max - c.written
		chunk := c.buf
		if int64(len(chunk)) > room {
			chunk = chunk[:room]
		}
		if _, err := c.w.Write(chunk); err != nil {
			return n, err
		}
		c.written += int64(len(chunk))
		c.buf = c.buf[len(chunk):]
		if len(c.buf) > 0 {
			c.stop()
		}
	}
	if len(c.buf) == 0 {
		c.buf = c.buf[:0:0] // let a large buffer go
	}
	return n, nil
}

func (c *pcapCutter) stop() {
	c.done = true
	c.buf = nil
	if c.full != nil {
		c.full()
	}
}

// next is the length of the next complete unit (the 24-byte header, then
// each 16-byte record header and its data), or -1 when not known yet.
func (c *pcapCutter) next() int {
	if c.raw {
		return -1
	}
	if !c.header {
		if c.order != nil {
			return 24
		}
		if len(c.buf) < 4 {
			return -1
		}
		switch binary.LittleEndian.Uint32(c.buf) {
		case 0xa1b2c3d4, 0xa1b23c4d:
			c.order = binary.LittleEndian
		case 0xd4c3b2a1, 0x4d3cb2a1:
			c.order = binary.BigEndian
		default:
			c.raw = true
			return -1
		}
		return 24
	}
	if len(c.buf) < 16 {
		return -1
	}
	n := c.order.Uint32(c.buf[8:12])
	if n > maxRecord {
		c.raw = true // not a record tcpdump writes: keep bytes, not packets
		return -1
	}
	return 16 + int(n)
}
