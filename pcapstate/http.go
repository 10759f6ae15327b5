package pcapstate

import "bytes"

// Method is an HTTP/1.x request method, as a request line at the start of
// a segment's payload names it. The zero value means none was seen.
type Method uint8

//go:generate stringer -type=Method -linecomment

// Methods: RFC 9110's and PATCH (RFC 5789).
const (
	MethodNone    Method = iota // none
	MethodGET                   // GET
	MethodHEAD                  // HEAD
	MethodPOST                  // POST
	MethodPUT                   // PUT
	MethodDELETE                // DELETE
	MethodCONNECT               // CONNECT
	MethodOPTIONS               // OPTIONS
	MethodTRACE                 // TRACE
	MethodPATCH                 // PATCH
)

// MarshalText writes a Method by name, and no method as "".
func (m Method) MarshalText() ([]byte, error) {
	if m == MethodNone {
		return []byte{}, nil
	}
	return []byte(m.String()), nil
}

// Upgrade is how a connection left HTTP/1.x: what it carried after the
// answer that did it is another protocol, whose bytes are not HTTP/1.x
// messages even where they look like one. The zero value means it did not,
// or the capture did not show it.
type Upgrade uint8

//go:generate stringer -type=Upgrade -linecomment

// Upgrades. UpgradeSwitching is a 101 (Switching Protocols) answer to an
// Upgrade request: a WebSocket, HTTP/2 over cleartext (h2c).
// UpgradeConnect is a 2xx answer to a CONNECT request, which opened a
// tunnel through a proxy to the request's host:port: the bytes after it
// are the client's and the host's (usually TLS), relayed.
const (
	UpgradeNone      Upgrade = iota // none
	UpgradeSwitching                // 101
	UpgradeConnect                  // connect
)

// MarshalText writes an Upgrade by name, and none as "".
func (u Upgrade) MarshalText() ([]byte, error) {
	if u == UpgradeNone {
		return []byte{}, nil
	}
	return []byte(u.String()), nil
}

// HTTPStart is the beginning of an HTTP/1.x message recognised at the
// start of a segment's payload, in 16 bits: a request's Method (1 to 15)
// or a response's status code (100 to 999). The zero value means the
// payload begins neither.
type HTTPStart uint16

// Method returns the request method the segment begins, MethodNone when it
// begins no request.
func (h HTTPStart) Method() Method {
	if h < 100 {
		return Method(h)
	}
	return MethodNone
}

// Status returns the status code of the response the segment begins, 0
// when it begins no response.
func (h HTTPStart) Status() uint16 {
	if h >= 100 {
		return uint16(h)
	}
	return 0
}

// httpFirst says which bytes begin a status line or a method.
var httpFirst = [256]bool{'H': true, 'G': true, 'P': true, 'D': true, 'O': true, 'C': true, 'T': true}

// httpLineScan bounds how far httpStartOf looks for the end of a request
// line to check its version: the method and the first byte of the target
// are enough to recognise it, and the version is checked only when the
// line ends within these bytes.
const httpLineScan = 256

// httpStartOf recognises the first bytes of a segment's captured payload
// p: a status line "HTTP/1.x NNN" or a request line "METHOD /target
// HTTP/1.x" (the target may also be "*", an absolute URI, or CONNECT's
// authority). It reads only p, which the snaplen may have cut anywhere: a
// request line cut after the target's first byte is still recognised, a
// status line needs its 12 bytes. It never allocates.
func httpStartOf(p []byte) HTTPStart {
	if len(p) < 5 {
		return 0
	}
	var m Method
	var n int // length of the method and its space
	switch p[0] {
	case 'H':
		if len(p) >= 12 && string(p[:7]) == "HTTP/1." && (p[7] == '0' || p[7] == '1') && p[8] == ' ' {
			c0, c1, c2 := p[9]-'0', p[10]-'0', p[11]-'0'
			if c0 >= 1 && c0 <= 9 && c1 <= 9 && c2 <= 9 && (len(p) == 12 || p[12] == ' ' || p[12] == '\r' || p[12] == '\n') {
				return HTTPStart(uint16(c0)*100 + uint16(c1)*10 + uint16(c2))
			}
			return 0
		}
		m, n = MethodHEAD, 5
	case 'G':
		m, n = MethodGET, 4
	case 'P':
		switch p[1] {
		case 'O':
			m, n = MethodPOST, 5
		case 'U':
			m, n = MethodPUT, 4
		case 'A':
			m, n = MethodPATCH, 6
		default:
			return 0
		}
	case 'D':
		m, n = MethodDELETE, 7
	case 'O':
		m, n = MethodOPTIONS, 8
	case 'C':
		m, n = MethodCONNECT, 8
	case 'T':
		m, n = MethodTRACE, 6
	default:
		return 0
	}
	if len(p) <= n || string(p[:n-1]) != m.String() || p[n-1] != ' ' {
		return 0
	}
	switch t := p[n]; {
	case t == '/' || t == 'h' || (t == '*' && m == MethodOPTIONS):
	case m == MethodCONNECT && t > ' ' && t < 0x7f:
	default:
		return 0
	}
	// When the request line ends within the captured bytes, it must end
	// in an HTTP/1.x version.
	line := p[n:min(len(p), n+httpLineScan)]
	if end := bytes.IndexByte(line, '\n'); end >= 0 {
		line = bytes.TrimSuffix(line[:end], []byte{'\r'})
		if len(line) < 10 || string(line[len(line)-9:len(line)-1]) != " HTTP/1." || line[len(line)-1]-'0' > 9 {
			return 0
		}
	}
	return HTTPStart(m)
}
