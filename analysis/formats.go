package analysis

import (
	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/golang"
	"github.com/cwforensics/cwforensics/dumps/jvm"
	"github.com/cwforensics/cwforensics/dumps/sockets"
)

// Formats is the chain of recognisers of the evidence formats that dumps
// and its families read, in the order they are tried: the JVM dumps, whose
// markers are the most specific, then Go's dumps and profiles, then socket
// listings. A chain's binary formats (pprof) are tried before all text
// formats whatever their place. The runtime formats (runtimeFormats) come
// after this whole chain. dumps cannot build the chain itself, as its
// families import it for the record types. A Chain is built for each file:
// its socket matchers share the head they last looked at.
func Formats() dumps.Chain {
	var c dumps.Chain
	c = append(c, jvm.Formats()...)
	c = append(c, golang.Formats()...)
	c = append(c, sockets.Formats()...)
	return c
}
