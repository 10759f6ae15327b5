// Package chain defines, once, the order in which the evidence formats of
// dumps and its families are tried. dumps cannot build the chain itself,
// as its families import it for the record types; analysis reads every
// file through it, and the tests of report read their evidence through
// the same chain.
package chain

import (
	"github.com/cwforensics/cwforensics/dumps"
	"github.com/cwforensics/cwforensics/dumps/golang"
	"github.com/cwforensics/cwforensics/dumps/jvm"
	"github.com/cwforensics/cwforensics/dumps/sockets"
)

// Formats is the chain of recognisers in the order they are tried: the JVM
// dumps, whose markers are the most specific, then Go's dumps and
// profiles, then socket listings. A chain's binary formats (pprof) are
// tried before all text formats whatever their place. A Chain is built for
// each file: its socket matchers share the head they last looked at.
func Formats() dumps.Chain {
	var c dumps.Chain
	c = append(c, jvm.Formats()...)
	c = append(c, golang.Formats()...)
	c = append(c, sockets.Formats()...)
	return c
}
