# cwforensics build, test and check targets. See README.md.

GO       ?= go
CC       ?= cc
FUZZTIME ?= 30s
# Minimizing a large interesting input can stall a short run; bound it.
FUZZFLAGS ?= -fuzzminimizetime=5s
BIN      := bin/cwforensics
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The build is pure Go. TAGS=pcap opts in to libpcap (cgo and libpcap's
# headers needed) for BPF filters beyond the pure-Go subset.
TAGS     ?=
GOFLAGS_ := -tags '$(TAGS)'

.PHONY: all build test test-pcap golden golden-packages fuzz bench lint demo e2e load clean

all: lint test

build:
	$(GO) build $(GOFLAGS_) -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/cwforensics

# test runs every test (unit, golden, conformance, fuzz seed corpora) and
# checks that the build without cgo compiles and works.
test:
	$(GO) test $(GOFLAGS_) -count=1 ./...
	CGO_ENABLED=0 $(GO) test -count=1 -run 'Filter|CLI' ./cmd/... ./pcapstate/...

# test-pcap runs the tests of the opt-in libpcap build (needs libpcap-dev).
test-pcap:
	$(GO) test -tags pcap -count=1 ./cmd/... ./pcapstate/...

# golden rewrites the golden files from the current output; review git diff.
# Only the packages whose test binaries link internal/golden know -update,
# directly or through a helper (dumps/internal/dumptest): go list -test
# lists each test binary (pkg.test) with all it depends on.
# golden-packages prints them (internal/golden's test checks that every
# package with goldens of its own is among them).
GOLDEN_PKGS = $(GO) list $(GOFLAGS_) -test -f '{{.ImportPath}} {{join .Deps " "}}' ./... | awk '$$1 ~ /\.test$$/ && / github\.com\/cwforensics\/cwforensics\/internal\/golden( |$$)/ { sub(/\.test$$/, "", $$1); print $$1 }'
golden:
	$(GO) test $(GOFLAGS_) -count=1 $$($(GOLDEN_PKGS)) -update

golden-packages:
	@$(GOLDEN_PKGS)

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test $(GOFLAGS_) -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test $(GOFLAGS_) -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $(FUZZFLAGS) $$pkg; \
	  done; \
	done

# bench reports packets/s and lines/s for the hot paths.
bench:
	$(GO) test $(GOFLAGS_) -run='^$$' -bench=. -benchmem ./...

lint:
	$(GO) vet $(GOFLAGS_) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	staticcheck -tags '$(TAGS)' ./...

# e2e renders the HTML report of a real case (java-pool-leak; E2E_CASE=name
# for another), opens it in headless Chromium (installed from Debian when
# missing), screenshots it to out/e2e/report.png and checks the rendered
# page, and that hostile evidence stays text; E2E_HTML=path checks an
# existing report instead.
# Then it drives cwforensics serve in the same Chromium (chromedp, build
# tag e2e): upload through the form, progress, report, list, delete.
e2e:
	E2E_TAGS='$(TAGS)' scripts/e2e.sh $(E2E_HTML)

# demo runs the main job on a bundled real case: the Markdown report on
# stdout, the HTML and JSON reports in out/demo/.
demo:
	@mkdir -p out/demo
	$(GO) run $(GOFLAGS_) ./cmd/cwforensics analyze -o out/demo/report.html -o out/demo/report.json -o out/demo/report.md testdata/cases/java-pool-leak
	@cat out/demo/report.md
	@echo; echo "HTML and JSON reports: out/demo/report.html, out/demo/report.json"

# load puts cwforensics serve under load on this machine: a 2 GiB capture
# and 50 small analyses uploaded at once (LOADFLAGS="-size 256M -small 10"
# for a short run); it prints the peak memory and throughput
# (docs/performance.md).
load:
	$(GO) run ./testdata/tools/loadserve $(LOADFLAGS)

clean:
	rm -rf bin out

# fixtures regenerates the real captures, socket listings and dumps under
# testdata/real and testdata/cases on this machine (root; loopback, or
# network namespaces the scripts make and delete; about 15 minutes; see
# testdata/README.md). Not part of test: commit the output.
.PHONY: fixtures
fixtures:
	bash testdata/gen/run-all.sh
