package dumps

// SocketEvidence holds the socket records of one file.
// Placeholder until the socket parsers land (issue 4).
type SocketEvidence struct{}

func socketFormats() []format { return nil }
