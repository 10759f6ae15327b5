// Package report holds the one model of an analysis (Model) and renders it
// three ways: a self-contained HTML page, GitHub-flavoured Markdown for an
// incident ticket and versioned JSON.
//
// Data flows one way: pcapstate (and dumps) -> report -> renderers, with
// no callback back. A Builder (in build.go) reads the evidence
// (NewBuilder), then takes the capture's connections one at a time
// (Add), in the order a pcapstate.Stream hands them over or any other: it
// keeps no connection, only counts and, for the sockets it may list as
// stuck, a compact summary of each (conns.go), so that memory follows the
// connections open at once. Build then takes the rest of what the captures
// say, correlates everything into a Model and calls Model.Finalize, which
// sorts everything, fills the derived and display fields and checks
// references. The function Build is that Builder given a
// pcapstate.Result's connections through Add: tests and analyze take the
// same path. The writers only format a finalized Model: the same Model
// always gives byte-identical output.
//
// Positions stay typed from the parsers to the renderers: a Pos (a line
// of a text file, a packet of a capture, a whole file, or a source that is
// no file such as --max-fds) is made from a dumps.Pos or a pcapstate.Pos,
// sorted by its fields, and printed only by the writers.
package report
