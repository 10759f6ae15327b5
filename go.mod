module github.com/cwforensics/cwforensics

go 1.24

require (
	github.com/alecthomas/kong v1.17.0
	github.com/chromedp/cdproto v0.0.0-20250724212937-08a3db8b4327
	github.com/chromedp/chromedp v0.14.2
	github.com/google/go-cmp v0.7.0
	github.com/google/gopacket v1.1.19
	github.com/google/pprof v0.0.0-20250630185457-6e76a2b096b5
	go.etcd.io/bbolt v1.4.3
	golang.org/x/sys v0.34.0
	golang.org/x/term v0.33.0
)

require (
	github.com/chromedp/sysutil v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20250725192818-e39067aee2d2 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/gobwas/ws v1.4.0 // indirect
	golang.org/x/net v0.0.0-20190620200207-3b0461eec859 // indirect
)
