module github.com/cwforensics/cwforensics

go 1.24

require (
	github.com/alecthomas/kong v1.17.0
	github.com/google/go-cmp v0.7.0
	github.com/google/gopacket v1.1.19
	github.com/google/pprof v0.0.0-20250630185457-6e76a2b096b5
	go.etcd.io/bbolt v1.4.3
	golang.org/x/sys v0.32.0
)

require golang.org/x/net v0.0.0-20190620200207-3b0461eec859 // indirect
