package sockets

import "github.com/cwforensics/cwforensics/dumps"

// testChain is the socket formats alone, in the order of analysis.Formats;
// analysis tests the whole chain.
func testChain() dumps.Chain { return Formats() }

// sniffLen is how much of a file a dumps.Chain looks at.
const sniffLen = 64 << 10
