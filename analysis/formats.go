package analysis

import (
	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/chain"
)

// Formats is the chain of recognisers of the evidence formats, in the
// order dumps/chain defines. The runtime formats (runtimeFormats) come
// after this whole chain.
func Formats() dumps.Chain { return chain.Formats() }
