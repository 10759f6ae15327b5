// Package report holds the one model of an analysis (Model) and renders it
// three ways: a self-contained HTML page, GitHub-flavoured Markdown for an
// incident ticket and versioned JSON.
//
// Build (in build.go) correlates capture connections, socket records and
// thread dumps into a Model; it then calls Model.Finalize, which sorts
// everything, fills the derived and display fields and checks references.
// The writers only format a finalized Model: the same Model always gives
// byte-identical output.
package report
