package sample

import (
	"fmt"
	"reflect"

	"github.com/cwforensics/cwforensics/report"
)

// HostileText is evidence written by an attacker: a thread, process or file
// name with HTML, Markdown, a terminal escape, NUL, line breaks, a bidi
// override and invalid UTF-8.
const HostileText = "<script>alert(1)</script></textarea>\"><img src=x onerror=alert(2)>" +
	"|cell|`tick`*b*_i_[x](javascript:alert(3))\x1b[31mred\x00nul\nline\r\u202eexe.txt #h ~s~ &amp; \xff"

// Hostile is JavaPoolLeak with every string (thread and process names,
// frames, paths, positions, messages, advice) replaced by HostileText and a
// number, except the socket keys the findings refer to.
func Hostile() *report.Model {
	m := JavaPoolLeak()
	m.Warnings = []report.Warning{{Pos: line("jstack.txt", 7), Msg: "thread header without a state"}}
	for i := range m.Findings {
		m.Findings[i].Advice = report.Advise(m.Findings[i].Category, m.Findings[i].Process.Runtime)
	}
	n := 0
	poison(reflect.ValueOf(m), &n)
	return m
}

func poison(v reflect.Value, n *int) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			poison(v.Elem(), n)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[report.Pos]() {
			// A position whose file name is hostile, printed as it is.
			*n++
			v.Set(reflect.ValueOf(report.FilePos(fmt.Sprintf("%s%d", HostileText, *n))))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || (v.Type() == reflect.TypeFor[report.Finding]() && f.Name == "Sockets") {
				continue
			}
			poison(v.Field(i), n)
		}
	case reflect.Slice:
		for i := range v.Len() {
			poison(v.Index(i), n)
		}
	case reflect.String:
		*n++
		v.SetString(fmt.Sprintf("%s%d", HostileText, *n))
	}
}
