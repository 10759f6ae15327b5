package dumps

import (
	"net/netip"
	"strconv"
	"time"
)

//go:generate stringer -type=State,Proto,OS -linecomment -output=socket_string.go

// State is a TCP state in one enum for every tool's spelling: ss writes
// CLOSE-WAIT, netstat and lsof CLOSE_WAIT, /proc/net/tcp 08, Windows
// LISTENING. String gives the Linux netstat spelling. The zero value means
// the tool did not say (or said something that is not a TCP state; the
// spelling as written is then kept in Socket.StateRaw).
type State uint8

// TCP states, numbered as in the Linux kernel (include/net/tcp_states.h), so
// that /proc/net/tcp's hex st column is the value.
const (
	StateUnknown     State = iota //
	StateEstablished              // ESTABLISHED
	StateSynSent                  // SYN_SENT
	StateSynRecv                  // SYN_RECV
	StateFinWait1                 // FIN_WAIT1
	StateFinWait2                 // FIN_WAIT2
	StateTimeWait                 // TIME_WAIT
	StateClose                    // CLOSE
	StateCloseWait                // CLOSE_WAIT
	StateLastAck                  // LAST_ACK
	StateListen                   // LISTEN
	StateClosing                  // CLOSING
)

// MarshalText makes a State appear by its netstat spelling in JSON ("" when
// unknown).
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// stateNames maps every spelling seen in ss, netstat (Linux, BSD, macOS,
// Windows) and lsof, upper-cased with '-', '_' and ' ' removed, to a State.
var stateNames = map[string]State{
	"ESTAB":       StateEstablished,
	"ESTABLISHED": StateEstablished,
	"SYNSENT":     StateSynSent,
	"SYNRECV":     StateSynRecv,
	"SYNRCVD":     StateSynRecv,
	"SYNRECEIVED": StateSynRecv,
	"NEWSYNRECV":  StateSynRecv,
	"FINWAIT1":    StateFinWait1,
	"FINWAIT2":    StateFinWait2,
	"TIMEWAIT":    StateTimeWait,
	"CLOSE":       StateClose,
	"CLOSED":      StateClose,
	"UNCONN":      StateClose, // ss's name for TCP_CLOSE
	"CLOSEWAIT":   StateCloseWait,
	"LASTACK":     StateLastAck,
	"LISTEN":      StateListen,
	"LISTENING":   StateListen,
	"CLOSING":     StateClosing,
}

// ParseState returns the State for a tool's spelling of a TCP state:
// CLOSE-WAIT, CLOSE_WAIT, close-wait, Close Wait are all accepted, as is
// the two-digit hex of /proc/net/tcp ("08"). ok is false for anything else.
func ParseState(s string) (st State, ok bool) {
	if len(s) == 2 && HexOnly(s) {
		v, err := strconv.ParseUint(s, 16, 8)
		if err == nil && v >= uint64(StateEstablished) && v <= uint64(StateClosing) {
			return State(v), true
		}
		return StateUnknown, false
	}
	if len(s) > 16 {
		return StateUnknown, false
	}
	var b [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_' || c == ' ':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		b[n] = c
		n++
	}
	st, ok = stateNames[string(b[:n])]
	return st, ok
}

// Proto is the transport of a socket, IPv4 and IPv6 alike.
type Proto uint8

// Protocols. The zero value means the tool did not say.
const (
	ProtoUnknown Proto = iota //
	ProtoTCP                  // tcp
	ProtoUDP                  // udp
	ProtoUnix                 // unix
	ProtoRaw                  // raw
	ProtoOther                // other
)

// MarshalText makes a Proto appear by name in JSON.
func (p Proto) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// OS is the system whose tool printed a listed socket, as far as the row
// and its file tell: each writes netstat (and lsof) in its own dialect, and
// counts the queues its own way (Linux's Recv-Q holds the peer's FIN as one
// byte until a read takes it; the BSDs' and macOS's count the bytes
// buffered). ss and /proc/net/tcp are Linux's alone. The zero value means
// the row and file do not tell.
type OS uint8

// Systems, by the dialect of their tools.
const (
	OSUnknown OS = iota //
	// OSLinux: ss, /proc/net/tcp; net-tools and busybox netstat (tcp/tcp6
	// rows in addr:port notation, ::1:22, :::*); lsof with a decimal DEVICE
	// (the socket's inode).
	OSLinux // linux
	// OSBSD: macOS, FreeBSD and the other BSDs' netstat (tcp4, tcp6, tcp46
	// rows in addr.port notation, *.22, *.*).
	OSBSD // bsd
	// OSWindows: Windows netstat (TCP rows, no queues).
	OSWindows // windows
)

// MarshalText makes an OS appear by name in JSON ("" when unknown).
func (o OS) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Endpoint is one end of a socket as the tool printed it. Addr is set when
// the address is an IP address (IPv6 zones kept, as netip prints them);
// otherwise Host holds the text as written: a resolved host name, "*", a
// Unix socket path. Port is set when the tool printed a number; PortName
// holds a service name or "*" as written.
type Endpoint struct {
	Addr     netip.Addr `json:"addr,omitzero"`
	Host     string     `json:"host,omitempty"`
	Iface    string     `json:"iface,omitempty"` // ss's 127.0.0.53%lo: the device an IPv4 socket is bound to
	Port     uint16     `json:"port,omitempty"`
	PortName string     `json:"port_name,omitempty"`
}

// AddrString is the address as netip prints it, or the host as written.
func (e Endpoint) AddrString() string {
	if e.Addr.IsValid() {
		return e.Addr.String()
	}
	return e.Host
}

// PortString is the port number, or the name as written, or "" when the
// tool printed none (a Unix socket path, lsof's listening socket's remote).
func (e Endpoint) PortString() string {
	switch {
	case e.PortName != "":
		return e.PortName
	case e.Port != 0 || e.Addr.IsValid():
		return strconv.Itoa(int(e.Port))
	}
	return ""
}

// Owner is a process holding a socket. ss lists every process that has the
// socket open (after fork or fd passing), lsof one line per process and fd.
type Owner struct {
	PID     *int   `json:"pid,omitempty"`
	Process string `json:"process,omitempty"`
	FD      *int   `json:"fd,omitempty"`
	User    string `json:"user,omitempty"`
}

// Socket is one socket of one listing, normalised over every tool.
type Socket struct {
	Tool     Kind     `json:"tool"`
	Proto    Proto    `json:"proto"`
	ProtoRaw string   `json:"proto_raw,omitempty"` // as written: tcp6, TCP, u_str, tcp46
	OS       OS       `json:"os,omitempty"`        // the system whose dialect the row and its file show
	Local    Endpoint `json:"local"`
	Remote   Endpoint `json:"remote"`
	State    State    `json:"state"`
	StateRaw string   `json:"state_raw,omitempty"` // as written: CLOSE-WAIT, 08, LISTENING
	RecvQ    *uint64  `json:"recv_q,omitempty"`
	SendQ    *uint64  `json:"send_q,omitempty"`
	Owners   []Owner  `json:"owners,omitempty"`
	Inode    uint64   `json:"inode,omitempty"`
	UID      *int     `json:"uid,omitempty"`
	User     string   `json:"user,omitempty"`  // netstat -e's User column when it is a name
	Timer    string   `json:"timer,omitempty"` // ss -o timer:(...), netstat -o, /proc tr:tm->when
	Extra    string   `json:"extra,omitempty"` // other details as written: ss -e/-i/-m, lsof -T, Windows service
	// Snapshot is the index into SocketEvidence.SocketSnapshots of the listing
	// this socket belongs to; SnapshotTime is that listing's time when the
	// file shows one.
	Snapshot     int       `json:"snapshot"`
	SnapshotTime time.Time `json:"snapshot_time,omitzero"`
	Src          Pos       `json:"src"`
}

// ToolName is the command that printed the socket: ss, lsof, netstat or
// proc (for /proc/net/tcp).
func (s *Socket) ToolName() string {
	switch s.Tool {
	case KindLsof, KindLsofFields:
		return "lsof"
	case KindProcNetTCP, KindProcFD:
		return "proc"
	}
	return s.Tool.String()
}

// Owner0 is the first owner, or the zero Owner.
func (s *Socket) Owner0() Owner {
	if len(s.Owners) == 0 {
		return Owner{}
	}
	return s.Owners[0]
}

// SocketSnapshot is one listing in a file that holds several (a loop with
// date between runs, watch output, several pasted commands). A new one
// starts at a date line, a watch header, a shell prompt or a repeated table
// header once records have been seen since the last one.
type SocketSnapshot struct {
	Index int       `json:"index"`
	Time  time.Time `json:"time,omitzero"`
	Label string    `json:"label,omitempty"` // the line that started it, as written
	Src   Pos       `json:"src"`
}

// SocketSummary is one `ss -s` summary. Counts hold the TCP line
// ("TCP: 567 (estab 100, closed 20, orphaned 0, timewait 10)" gives total,
// estab, closed, orphaned, timewait); Transports the table below it.
type SocketSummary struct {
	Total        *int             `json:"total,omitempty"`
	TCP          map[string]int   `json:"tcp,omitempty"`
	Transports   []TransportCount `json:"transports,omitempty"`
	Snapshot     int              `json:"snapshot"`
	SnapshotTime time.Time        `json:"snapshot_time,omitzero"`
	Src          Pos              `json:"src"`
}

// TransportCount is one row of the transport table of `ss -s`.
type TransportCount struct {
	Transport string `json:"transport"`
	Total     int    `json:"total"`
	IP        int    `json:"ip"`
	IPv6      int    `json:"ipv6"`
}

// FD is one entry of `ls -l /proc/PID/fd`. Inode is set for sockets
// (socket:[12345]); PID when the listing says whose fds these are.
type FD struct {
	PID      *int   `json:"pid,omitempty"`
	FD       int    `json:"fd"`
	Target   string `json:"target"`
	Inode    uint64 `json:"inode,omitempty"`
	Snapshot int    `json:"snapshot"`
	Src      Pos    `json:"src"`
}

// Limit is one resource limit from /proc/PID/limits, or the open-files limit
// from ulimit. A value is either a number, or unlimited, or (ulimit shows
// one of the two) absent: then both the pointer is nil and the flag false.
type Limit struct {
	PID           *int    `json:"pid,omitempty"`
	Name          string  `json:"name"` // as in /proc/PID/limits: "Max open files"
	Soft          *uint64 `json:"soft,omitempty"`
	SoftUnlimited bool    `json:"soft_unlimited,omitempty"`
	Hard          *uint64 `json:"hard,omitempty"`
	HardUnlimited bool    `json:"hard_unlimited,omitempty"`
	Units         string  `json:"units,omitempty"`
	Snapshot      int     `json:"snapshot"`
	Src           Pos     `json:"src"`
}

// SocketEvidence holds the socket records of one file: sockets from ss,
// lsof, netstat or /proc/net/tcp, ss -s summaries, fd listings and limits,
// and the processes of process listings, each tagged with the snapshot it
// belongs to.
type SocketEvidence struct {
	Sockets         []Socket         `json:"sockets,omitempty"`
	SocketSnapshots []SocketSnapshot `json:"socket_snapshots,omitempty"`
	SocketSummaries []SocketSummary  `json:"socket_summaries,omitempty"`
	FDs             []FD             `json:"fds,omitempty"`
	Limits          []Limit          `json:"limits,omitempty"`
	// Procs are the processes of process listings (ps, /proc/PID/cmdline,
	// /proc/PID/stat), and BootTimes the btime lines of /proc/stat.
	Procs     []ProcessInfo `json:"procs,omitempty"`
	BootTimes []BootTime    `json:"boot_times,omitempty"`
	// SkippedLines counts lines that were not part of the listing (prompts,
	// other commands' output) and were ignored without a warning.
	SkippedLines int `json:"skipped_lines,omitempty"`
}

// HexOnly reports whether s is a non-empty run of hexadecimal digits
// (/proc addresses and inodes, JVM thread ids and lock addresses).
func HexOnly(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
