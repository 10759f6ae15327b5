package report

import "fmt"

//go:generate stringer -type=Category,Severity,Runtime,Status,Strength,SuspectKind,LocalMethod,InputStatus,InputCause,Mechanism,Role,Exchange,Upgrade,PosKind -linecomment -output=enums_string.go

// Category is a root cause of a CLOSE_WAIT pile-up. The zero value means
// unknown.
type Category uint8

// Root causes, as named in the JSON schema.
const (
	CategoryUnknown              Category = iota // unknown
	CategoryMissingClose                         // missing-close
	CategoryPoolLeak                             // pool-leak
	CategoryBlockedHoldingSocket                 // blocked-holding-socket
	CategoryErrorHandling                        // error-handling
	CategoryRemotePeerLeak                       // remote-peer-leak
	CategoryNormalChurn                          // normal-churn
	CategoryFDExhaustion                         // fd-exhaustion
)

// Mechanism is how a group of stuck sockets is held: what keeps the
// application from closing them. The zero value means unknown.
type Mechanism uint8

// Mechanisms, as named in the JSON schema.
const (
	MechanismUnknown      Mechanism = iota // unknown
	MechanismThread                        // held-by-thread
	MechanismPool                          // held-by-pool
	MechanismUnreferenced                  // unreferenced
	MechanismTransient                     // transient
	MechanismRemote                        // remote-peer
	MechanismDescriptors                   // descriptors
)

// Role says whether a thread or goroutine holds a finding's sockets or
// waits for something (a lock, a pooled connection) without holding one.
// The zero value means unknown.
type Role uint8

// Roles.
const (
	RoleUnknown Role = iota // unknown
	RoleHolder              // holder
	RoleWaiter              // waiter
)

// Severity says how urgent a finding is. The zero value means unknown.
type Severity uint8

// Severities, in increasing order of urgency.
const (
	SeverityUnknown  Severity = iota // unknown
	SeverityInfo                     // info
	SeverityWarning                  // warning
	SeverityCritical                 // critical
)

// Runtime is the language runtime of a process, which decides the advice.
// The zero value means unknown.
type Runtime uint8

// Runtimes the advice knows about.
const (
	RuntimeUnknown Runtime = iota // unknown
	RuntimeGo                     // go
	RuntimeJava                   // java
	RuntimePython                 // python
	RuntimeNode                   // node
)

// Status is what the evidence says about one socket. The zero value means
// unknown.
type Status uint8

// Socket statuses. Confirmed, CaptureOnly and KernelOnly are stuck in
// CLOSE_WAIT; the others are facts shown for context.
const (
	StatusUnknown     Status = iota // unknown
	StatusConfirmed                 // confirmed
	StatusCaptureOnly               // capture-only
	StatusKernelOnly                // kernel-only
	StatusGoneLater                 // gone-later
	StatusClosedLater               // closed-later
	StatusFinWait2                  // fin-wait-2
)

// Stuck reports whether a socket with this status is in CLOSE_WAIT at the
// end of the evidence.
func (s Status) Stuck() bool {
	return s == StatusConfirmed || s == StatusCaptureOnly || s == StatusKernelOnly
}

// Strength is how well a suspect thread or goroutine is tied to the sockets
// of its finding. The zero value means unknown.
type Strength uint8

// Link strengths.
const (
	StrengthUnknown  Strength = iota // unknown
	StrengthWeak                     // weak
	StrengthModerate                 // moderate
	StrengthStrong                   // strong
)

// SuspectKind says whether a suspect is a JVM (or other) thread or a Go
// goroutine group. The zero value means unknown.
type SuspectKind uint8

// Suspect kinds.
const (
	SuspectUnknown   SuspectKind = iota // unknown
	SuspectThread                       // thread
	SuspectGoroutine                    // goroutine
	// SuspectStack is a group of JavaScript stacks a Node.js process
	// printed (a warning's or an error's, in its log): where code ran,
	// not a thread that waits.
	SuspectStack // stack
)

// LocalMethod says how the local endpoints of the capture were chosen.
// The zero value means unknown.
type LocalMethod uint8

// Ways of choosing the local endpoints, in the order analyze tries them.
const (
	LocalUnknown  LocalMethod = iota // unknown
	LocalFlag                        // flag
	LocalEvidence                    // socket-evidence
	LocalCapture                     // capture
)

// InputStatus says what became of one input file. The zero value means
// unknown.
type InputStatus uint8

// Input statuses.
const (
	InputUnknown InputStatus = iota // unknown
	InputRead                       // read
	InputIgnored                    // ignored
	InputFailed                     // failed
	InputWarned                     // read-with-warnings
)

// InputCause says why an input was ignored or failed. The zero value means
// none (the input was read).
type InputCause uint8

// Causes of an input not read. Loses tells those that may hide evidence.
const (
	CauseNone       InputCause = iota // none
	CauseFormat                       // unknown-format
	CauseEmpty                        // empty
	CauseDuplicate                    // duplicate
	CauseNotRegular                   // not-regular-file
	CauseUnreadable                   // unreadable
	CauseTooDeep                      // too-deep
	CauseLinkType                     // unsupported-link-type
	CauseCorrupt                      // corrupt
	CauseTooLarge                     // decompression-bound
	CauseNoTCP                        // no-tcp
)

// Loses reports whether an input ignored or failed for this cause may have
// held evidence: it could not be opened, walked, decoded or decompressed.
// An unknown format, an empty file, a file read under another name, a
// socket or device file met in a folder, and a capture whose packets were
// decoded but held no TCP segment (its reason counts them by kind) hide
// nothing.
func (c InputCause) Loses() bool {
	switch c {
	case CauseFormat, CauseEmpty, CauseDuplicate, CauseNotRegular, CauseNoTCP:
		return false
	}
	return true
}

// enumText is the one implementation behind every enum's UnmarshalText: it
// finds name among the String values of 0..n-1.
func enumText[T ~uint8](kind string, name []byte, n int, str func(T) string) (T, error) {
	for i := range n {
		if str(T(i)) == string(name) {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q", kind, name)
}

// MarshalText writes the category by name, as in the JSON schema.
func (c Category) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a category by name.
func (c *Category) UnmarshalText(b []byte) (err error) {
	*c, err = enumText(`category`, b, int(CategoryFDExhaustion)+1, Category.String)
	return err
}

// MarshalText writes the severity by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity by name.
func (s *Severity) UnmarshalText(b []byte) (err error) {
	*s, err = enumText(`severity`, b, int(SeverityCritical)+1, Severity.String)
	return err
}

// MarshalText writes the runtime by name.
func (r Runtime) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a runtime by name.
func (r *Runtime) UnmarshalText(b []byte) (err error) {
	*r, err = enumText(`runtime`, b, int(RuntimeNode)+1, Runtime.String)
	return err
}

// MarshalText writes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a status by name.
func (s *Status) UnmarshalText(b []byte) (err error) {
	*s, err = enumText(`socket status`, b, int(StatusFinWait2)+1, Status.String)
	return err
}

// MarshalText writes the strength by name.
func (s Strength) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a strength by name.
func (s *Strength) UnmarshalText(b []byte) (err error) {
	*s, err = enumText(`link strength`, b, int(StrengthStrong)+1, Strength.String)
	return err
}

// MarshalText writes the suspect kind by name.
func (k SuspectKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a suspect kind by name.
func (k *SuspectKind) UnmarshalText(b []byte) (err error) {
	*k, err = enumText(`suspect kind`, b, int(SuspectStack)+1, SuspectKind.String)
	return err
}

// MarshalText writes the method by name.
func (l LocalMethod) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a method by name.
func (l *LocalMethod) UnmarshalText(b []byte) (err error) {
	*l, err = enumText(`local method`, b, int(LocalCapture)+1, LocalMethod.String)
	return err
}

// MarshalText writes the input status by name.
func (s InputStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads an input status by name.
func (s *InputStatus) UnmarshalText(b []byte) (err error) {
	*s, err = enumText(`input status`, b, int(InputWarned)+1, InputStatus.String)
	return err
}

// MarshalText makes an input cause appear by name in JSON.
func (c InputCause) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads an input cause by name.
func (c *InputCause) UnmarshalText(b []byte) (err error) {
	*c, err = enumText(`input cause`, b, int(CauseNoTCP)+1, InputCause.String)
	return err
}

// MarshalText writes the mechanism by name.
func (m Mechanism) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads a mechanism by name.
func (m *Mechanism) UnmarshalText(b []byte) (err error) {
	*m, err = enumText(`mechanism`, b, int(MechanismDescriptors)+1, Mechanism.String)
	return err
}

// MarshalText writes the role by name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a role by name.
func (r *Role) UnmarshalText(b []byte) (err error) {
	*r, err = enumText(`role`, b, int(RoleWaiter)+1, Role.String)
	return err
}
