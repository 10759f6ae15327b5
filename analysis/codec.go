package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Bounds on gzip decompression: past the first MaxInflateFree bytes of
// output, a stream may not grow more than MaxInflateRatio times the bytes
// read from its source. Captures compress 3 to 20 times, text listings
// and dumps 10 to 50; a decompression bomb, 1000 times and more.
const (
	MaxInflateRatio = 500
	MaxInflateFree  = 1 << 20
)

// ErrInflateBound is returned when a gzip stream exceeds the
// decompression bound: likely a decompression bomb.
var ErrInflateBound = errors.New("gzip stream decompresses beyond the bound")

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// bounded is a decompressed stream held to the bound against the bytes
// its source has given.
type bounded struct {
	r       io.Reader
	src     *counter
	out     int64
	tripped error // the error of the bound, once exceeded
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.tripped != nil {
		return 0, b.tripped
	}
	n, err := b.r.Read(p)
	b.out += int64(n)
	if b.out > MaxInflateFree && b.out > MaxInflateRatio*b.src.n {
		b.tripped = fmt.Errorf("%w: %d bytes from %d compressed (more than %d:1 past the first %d MiB); a decompression bomb?", ErrInflateBound, b.out, b.src.n, MaxInflateRatio, MaxInflateFree>>20)
		return n, b.tripped
	}
	return n, err
}

// ctxReader stops reading when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Text encodings recognised and transcoded to UTF-8.
const (
	encUTF8    = ""
	encUTF8BOM = "utf-8-bom"
	encUTF16LE = "utf-16le"
	encUTF16BE = "utf-16be"
)

// textEncoding recognises UTF-16 text, little or big endian, with a byte
// order mark or without (mostly ASCII text then has a zero in every other
// byte), and UTF-8 with a byte order mark. It returns the encoding and the
// length of its mark.
func textEncoding(head []byte) (string, int) {
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		return encUTF8BOM, 3
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		return encUTF16LE, 2
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return encUTF16BE, 2
	}
	n := min(len(head), 1024) &^ 1
	if n < 4 {
		return encUTF8, 0
	}
	var even, odd int // zero bytes at even and odd offsets
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*7 && even*20 <= pairs:
		return encUTF16LE, 0
	case even*10 >= pairs*7 && odd*20 <= pairs:
		return encUTF16BE, 0
	}
	return encUTF8, 0
}

// utf16Reader transcodes UTF-16 to UTF-8. An unpaired surrogate or an odd
// last byte becomes U+FFFD.
type utf16Reader struct {
	r   io.Reader
	be  bool
	in  []byte // undecoded bytes
	out []byte // decoded, not yet returned
	err error
	hi  uint16 // a high surrogate waiting for its pair, 0 when none
}

func newUTF16Reader(r io.Reader, be bool) *utf16Reader {
	return &utf16Reader{r: r, be: be, in: make([]byte, 0, 32<<10)}
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		n, err := u.r.Read(u.in[len(u.in):cap(u.in)])
		u.in = u.in[:len(u.in)+n]
		u.decode()
		if err != nil {
			if len(u.in) > 0 || u.hi != 0 { // an odd byte or a lone surrogate at the end
				u.out = utf8.AppendRune(u.out, utf8.RuneError)
				u.in, u.hi = u.in[:0], 0
			}
			u.err = err
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	if len(u.out) == 0 {
		u.out = u.out[:0:cap(u.out)]
	}
	return n, nil
}

// decode moves every whole code unit of in to out.
func (u *utf16Reader) decode() {
	i := 0
	u.out = u.out[:0]
	for ; i+1 < len(u.in); i += 2 {
		c := uint16(u.in[i]) | uint16(u.in[i+1])<<8
		if u.be {
			c = uint16(u.in[i])<<8 | uint16(u.in[i+1])
		}
		switch {
		case u.hi != 0 && utf16.IsSurrogate(rune(c)) && c >= 0xdc00:
			u.out = utf8.AppendRune(u.out, utf16.DecodeRune(rune(u.hi), rune(c)))
			u.hi = 0
			continue
		case u.hi != 0:
			u.out = utf8.AppendRune(u.out, utf8.RuneError)
			u.hi = 0
		}
		switch {
		case c >= 0xd800 && c < 0xdc00:
			u.hi = c
		case c >= 0xdc00 && c < 0xe000:
			u.out = utf8.AppendRune(u.out, utf8.RuneError)
		default:
			u.out = utf8.AppendRune(u.out, rune(c))
		}
	}
	u.in = u.in[:copy(u.in, u.in[i:])]
}
