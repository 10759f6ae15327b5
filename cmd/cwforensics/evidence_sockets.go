package main

import "github.com/cwforensics/cwforensics/dumps"

// socketTable is the table of socket records, or nil when there are none.
// Placeholder until the socket parsers land (issue 4).
func socketTable(evs []*dumps.Evidence) *table { return nil }
