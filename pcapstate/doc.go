// Package pcapstate reads packet captures and rebuilds the state machine of
// every TCP connection in them, with capture time as the only clock, to find
// the endpoints left in CLOSE_WAIT when the capture ends.
//
// Data flows one way: pcapstate -> report -> renderers. A Stream hands
// over the connections as typed values (Conn) that its caller pulls with
// Next, or NextBatch for a batch at once: the finished ones while the
// captures are read, in batches the Stream reuses (NextBatch hands the
// batch itself over and takes back one its caller is done with), then
// those still open at the end; Result has the rest
// (files, times, counts, the half-open summary, warnings). The engine runs
// inside Next and never calls its caller's code: Options holds values
// only, no callback. report.Builder consumes a Stream (analysis does the
// wiring), and renderers read only the model report builds. Read is a
// Stream collected and sorted, for the callers that want every
// connection at once (tests, tools): it keeps what Retain asks for,
// where a Stream's caller keeps what it copies.
//
// pcapstate imports neither report nor dumps.
package pcapstate
