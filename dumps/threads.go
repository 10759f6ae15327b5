package dumps

// DumpEvidence holds the thread and goroutine records of one file.
// Placeholder until the dump parsers land (issue 5).
type DumpEvidence struct{}

func dumpFormats() []format { return nil }
