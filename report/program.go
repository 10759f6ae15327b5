package report

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"

	"github.com/cwforensics/cwforensics/dumps"
)

// An interpreter's command name (python3, node, java) says which runtime
// runs, not which program: two python3 processes are told apart by the
// script, module, jar or main class their command lines run. program is
// that identity, read from a command line.
type program struct {
	kind progKind
	// name is as the command line writes it: "quote_client.py",
	// "/srv/app/server.js", "http.server", "app.jar", "com.example.Main".
	name string
}

type progKind uint8

const (
	progNone   progKind = iota
	progScript          // a file the interpreter runs (python3 x.py, node x.js)
	progModule          // python -m pkg.mod
	progJar             // java -jar app.jar
	progClass           // java com.example.Main, java -m mod/com.example.Main
)

var (
	pythonInterp = regexp.MustCompile(`^(?:python|pypy)[0-9.]*$`)
	nodeInterp   = regexp.MustCompile(`^(?:node|nodejs)$`)
)

// interpreter reports whether a command name is an interpreter's, whose
// own files (/usr/lib/python3.11/, node:internal) say nothing of which
// program it runs.
func interpreter(name string) bool {
	return pythonInterp.MatchString(name) || nodeInterp.MatchString(name) || name == "java"
}

// Options that take the next word as their argument, per interpreter;
// every other word that starts with "-" is a flag alone (or carries its
// value after "=").
var (
	pythonArgOpts = map[string]bool{"-W": true, "-X": true, "--check-hash-based-pycs": true}
	nodeArgOpts   = map[string]bool{"-r": true, "--require": true, "--import": true, "--loader": true, "--experimental-loader": true, "--conditions": true, "-C": true, "--title": true, "--env-file": true}
	javaArgOpts   = map[string]bool{"-cp": true, "-classpath": true, "--class-path": true, "-p": true, "--module-path": true, "--upgrade-module-path": true, "--add-modules": true, "--add-opens": true, "--add-exports": true, "--add-reads": true, "--patch-module": true, "--limit-modules": true, "--enable-native-access": true}
)

// programOf reads the program an interpreter's command line runs:
//
//	python3 [-u] [-X opt] script.py args   a script
//	python3 -m pkg.mod args                a module
//	node [--flags] [-r mod] app.js args    a script
//	java [opts] -jar app.jar args          a jar
//	java [opts] [-cp path] pkg.Main args   a main class (also -m mod/pkg.Main)
//
// It returns progNone for other commands and for code given inline
// (python3 -c, node -e), which names no file.
func programOf(cmd string) program {
	f := strings.Fields(cmd)
	if len(f) < 2 {
		return program{}
	}
	interp := path.Base(f[0])
	var argOpts map[string]bool
	java := false
	switch {
	case pythonInterp.MatchString(interp):
		argOpts = pythonArgOpts
	case nodeInterp.MatchString(interp):
		argOpts = nodeArgOpts
	case interp == "java":
		argOpts, java = javaArgOpts, true
	default:
		return program{}
	}
	for i := 1; i < len(f); i++ {
		w := f[i]
		next := ""
		if i+1 < len(f) {
			next = f[i+1]
		}
		switch {
		case w == "-c" && !java, w == "-e", w == "--eval", w == "-p" && !java, w == "--print":
			return program{} // inline code
		case w == "-m" && !java:
			return program{progModule, next}
		case java && w == "-jar":
			return program{progJar, next}
		case java && (w == "-m" || w == "--module"):
			if _, class, ok := strings.Cut(next, "/"); ok {
				return program{progClass, class}
			}
			return program{}
		case argOpts[w]:
			i++
		case strings.HasPrefix(w, "-"):
		case java:
			return program{progClass, w}
		default:
			return program{progScript, w}
		}
	}
	return program{}
}

// String says the program as the report words it.
func (p program) String() string {
	switch p.kind {
	case progModule:
		return "module " + p.name
	case progJar:
		return "jar " + p.name
	case progClass:
		return "main class " + p.name
	}
	return p.name
}

// progMatch is how a dump's frames run a program: its main module (the
// outermost code a stack shows: Python's <module>, Node's top-level
// Object.<anonymous>, the JVM's main thread's main method), another frame,
// or a file beside the script.
type progMatch uint8

const (
	matchNone  progMatch = iota
	matchDir             // a frame's file is in the script's directory
	matchFrame           // a frame runs the script, module or main class
	matchMain            // the dump's main module is the program
)

// progWeight is the weight of each way a dump's frames run a program.
func progWeight(m progMatch) float64 {
	switch m {
	case matchMain:
		return weightProgMain
	case matchFrame:
		return weightProgFrame
	case matchDir:
		return weightProgDir
	}
	return 0
}

// programIn says how the frames of a dump run a program and which frame
// shows it (file or function as the dump prints it).
//
// A dump that shows its main module names its program there: another
// frame or a file beside the script counts only when it shows none (a
// library's app.py is not the script app.py).
func programIn(p program, threads []dumps.Thread) (progMatch, string) {
	best, what, hasMain := matchNone, "", false
	for _, t := range threads {
		for i := range t.Frames {
			hasMain = hasMain || mainFrame(t, i)
		}
	}
	for _, t := range threads {
		for i, fr := range t.Frames {
			m := frameRuns(p, fr)
			if m == matchFrame && mainFrame(t, i) {
				m = matchMain
			}
			if m == matchNone || hasMain && m != matchMain || p.kind == progJar && m != matchMain {
				continue
			}
			if m > best {
				best, what = m, fr.File
				if p.kind == progClass || p.kind == progJar || what == "" {
					what = fr.Func
				}
			}
		}
	}
	return best, what
}

// mainFrame reports whether the i-th frame of a thread is its program's
// main module: a Python frame at module level ("<module>", which the
// faulthandler reader prefixes with the module), a Node.js module's
// top-level code, or the outermost frame of a JVM thread named main.
func mainFrame(t dumps.Thread, i int) bool {
	f := t.Frames[i]
	switch {
	case f.Func == "<module>", strings.HasSuffix(f.Func, ".<module>"), f.Func == "Object.<anonymous>":
		return true
	case t.Name == "main" && i == len(t.Frames)-1 && strings.HasSuffix(f.Func, ".main"):
		return true
	}
	return false
}

// frameRuns says whether a frame runs the program: its file is the
// script (the same path, or ending in the path the command line gives,
// relative to a working directory not known, outside installed
// packages), the module's file, or its function a method of the main
// class or of a package the jar is named after (counted only as the main
// module: a library's package may share the jar's name).
func frameRuns(p program, f dumps.Frame) progMatch {
	file := strings.TrimPrefix(f.File, "file://")
	switch p.kind {
	case progScript:
		if file == "" {
			return matchNone
		}
		for _, s := range scriptFiles(p.name) {
			if file == s || !path.IsAbs(s) && strings.HasSuffix(file, "/"+s) && !libraryFile(file) {
				return matchFrame
			}
		}
		if dir := path.Dir(path.Clean(p.name)); path.IsAbs(p.name) && dir != "/" && path.Dir(file) == dir {
			return matchDir
		}
	case progModule:
		mod := strings.ReplaceAll(p.name, ".", "/")
		for _, s := range []string{mod + ".py", mod + "/__main__.py"} {
			if strings.HasSuffix(file, "/"+s) || file == s {
				return matchFrame
			}
		}
	case progClass:
		if strings.HasPrefix(f.Func, p.name+".") && !strings.Contains(f.Func[len(p.name)+1:], ".") {
			return matchFrame
		}
	case progJar:
		if jar := jarStem(p.name); len(jar) >= 4 {
			segs := strings.Split(f.Func, ".")
			for _, s := range segs[:max(0, len(segs)-1)] { // packages and classes, not the method
				if squash(s) == jar {
					return matchFrame
				}
			}
		}
	}
	return matchNone
}

// libraryFile reports whether a file is an installed package's, which a
// script named by a relative path is not: a library's app.py is not the
// app.py of `python3 app.py`.
func libraryFile(file string) bool {
	for _, dir := range []string{"/site-packages/", "/dist-packages/", "/node_modules/"} {
		if strings.Contains(file, dir) {
			return true
		}
	}
	return false
}

// scriptFiles are the files a script argument may be: itself, cleaned,
// and for a name without an extension the files Node.js resolves it to.
func scriptFiles(s string) []string {
	c := strings.TrimPrefix(path.Clean(s), "./")
	out := []string{c}
	if path.Ext(c) == "" {
		out = append(out, c+".js", c+".mjs", c+".cjs", c+"/index.js")
	}
	return out
}

// jarVersion is a jar name's version suffix: app-1.2.3.jar, app-2.0-SNAPSHOT.jar.
var jarVersion = regexp.MustCompile(`[-_][0-9][0-9A-Za-z.\-_]*$`)

// jarStem is a jar's name without directory, extension, version and
// punctuation, lower case: /opt/quote-client-1.4.jar is "quoteclient".
func jarStem(jar string) string {
	s := strings.TrimSuffix(path.Base(jar), ".jar")
	return squash(jarVersion.ReplaceAllString(s, ""))
}

// squash lowers s and keeps only its letters and digits.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// programWhy words a program match for a candidate's why.
func programWhy(m progMatch, p program, frame string, pid int, cmdFrom string) string {
	which := fmt.Sprintf("which pid %d's command line runs (%s)", pid, cmdFrom)
	if p.kind != progScript {
		which = fmt.Sprintf("of the %s that pid %d's command line runs (%s)", p, pid, cmdFrom)
	}
	switch m {
	case matchMain:
		return fmt.Sprintf("the dump's main module is %s, %s", frame, which)
	case matchFrame:
		return fmt.Sprintf("the frames run %s, %s", frame, which)
	}
	return fmt.Sprintf("the frames run %s, in the directory of %s, which pid %d's command line runs (%s)", frame, p, pid, cmdFrom)
}

// cmdSource cites where a process's command line came from, and, for one
// saved without its pid, what tied it to the process.
func cmdSource(p *proc) string {
	switch {
	case p.cmdHow != "":
		return p.cmdFrom.String() + ", saved without its pid, tied to it by the fd listing beside it"
	case p.cmdByName:
		return p.cmdFrom.String() + ", saved without its pid, tied to it by its command name"
	}
	return p.cmdFrom.String()
}
