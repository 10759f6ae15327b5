package report

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cwforensics/cwforensics/dumps"
)

// maxClaimEvidence bounds the positions one claim about runtime sockets
// cites.
const maxClaimEvidence = 6

// runtimeSocketClaims says what runtime reports tell about the stuck
// sockets of process pid: a Node.js report's tcp handles with the same
// endpoints (the process and fd exactly, and whether anything reads them),
// and Python's ResourceWarnings for sockets on the same local endpoint (the
// line that made sockets the program dropped without close()).
func (b *builder) runtimeSocketClaims(pid int, stuck []key) []Claim {
	inStuck := make(map[key]bool, len(stuck))
	locals := map[netip.AddrPort]bool{}
	for _, k := range stuck {
		inStuck[k] = true
		locals[k.local] = true
	}
	var (
		handles, paused int
		fds             []string
		hpos, wpos      []string
		warned          int
		allocated       = map[string]bool{}
		alloc           []string
		report          string
	)
	for _, ev := range b.in.Evidence {
		for _, s := range ev.RuntimeSockets {
			if !s.Local.Addr.IsValid() {
				continue
			}
			local := netip.AddrPortFrom(s.Local.Addr.Unmap().WithZone(""), s.Local.Port)
			switch s.Source {
			case "libuv-tcp":
				if !s.Remote.Addr.IsValid() || (pid > 0 && s.PID > 0 && s.PID != pid) {
					continue
				}
				k := mkKey(local, netip.AddrPortFrom(s.Remote.Addr.WithZone(""), s.Remote.Port))
				if !inStuck[k] {
					continue
				}
				handles++
				report = ev.File
				if s.Paused {
					paused++
				}
				if s.FD >= 0 && len(fds) < maxClaimEvidence {
					fds = append(fds, strconv.Itoa(s.FD))
				}
				if len(hpos) < maxClaimEvidence {
					hpos = append(hpos, s.Src.String())
				}
			case "resource-warning":
				if !locals[local] {
					continue
				}
				warned++
				if len(wpos) < maxClaimEvidence {
					wpos = append(wpos, s.Src.String())
				}
				if i := dumps.AppFrame(s.Frames); i >= 0 {
					fr := s.Frames[i]
					f := fr.String()
					if fr.Func == "" {
						f = fr.File + ":" + strconv.Itoa(fr.Line) // tracemalloc names no function
					}
					if !allocated[f] && len(alloc) < 3 {
						allocated[f] = true
						alloc = append(alloc, f)
					}
				}
			}
		}
	}
	var cs []Claim
	if handles > 0 {
		text := fmt.Sprintf("%d of the stuck sockets are open tcp handles in the Node.js report %s (fd %s)", handles, report, strings.Join(fds, ", "))
		if paused > 0 {
			text += fmt.Sprintf("; %d of them are paused: nothing reads them, so the peer's FIN is never read and nothing closes them", paused)
		}
		cs = append(cs, Claim{Text: text, Evidence: hpos})
	}
	if warned > 0 {
		text := fmt.Sprintf("Python reported %d %s on the same local endpoint that the program dropped without close() (ResourceWarning: unclosed socket)", warned, plural("socket", warned))
		if len(alloc) > 0 {
			text += ", made at " + strings.Join(alloc, ", ")
		}
		cs = append(cs, Claim{Text: text, Evidence: wpos})
	}
	return cs
}
