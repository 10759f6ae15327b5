package dumps

// JoinFDs adds to each socket with an inode the owners that fd listings show
// for that inode (pid when the listing says it, and the fd). Owners already
// there are kept; the same pid and fd is not added twice.
func JoinFDs(socks []Socket, fds []FD) {
	byInode := map[uint64][]FD{}
	for _, f := range fds {
		if f.Inode != 0 {
			byInode[f.Inode] = append(byInode[f.Inode], f)
		}
	}
	for i := range socks {
		s := &socks[i]
		if s.Inode == 0 {
			continue
		}
		for _, f := range byInode[s.Inode] {
			dup := false
			for _, o := range s.Owners {
				if o.FD != nil && *o.FD == f.FD && (o.PID == nil) == (f.PID == nil) && (o.PID == nil || *o.PID == *f.PID) {
					dup = true
				}
			}
			if !dup {
				o := Owner{FD: IntPtr(f.FD)}
				if f.PID != nil {
					o.PID = IntPtr(*f.PID)
				}
				s.Owners = append(s.Owners, o)
			}
		}
	}
}

// JoinEvidence joins the fd listings of every file to the sockets of every
// file by inode (see JoinFDs), so /proc/net/tcp saved in one file and
// `ls -l /proc/PID/fd` in another give each socket its pid and fd.
func JoinEvidence(evs []*Evidence) {
	var fds []FD
	for _, ev := range evs {
		fds = append(fds, ev.FDs...)
	}
	if len(fds) == 0 {
		return
	}
	for _, ev := range evs {
		JoinFDs(ev.Sockets, fds)
	}
}
