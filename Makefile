# make test: everything CI runs. make bench: the performance table.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
# The real MinIO server, built from the Go module proxy (about 5-8 minutes
# the first time; cached in GOBIN afterwards).
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c

.PHONY: test lint unit fuzz minio cfn lambda build-ExportFunction bench

test: lint minio cfn unit fuzz

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -w needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

minio:
	@test -x $(GOBIN)/minio || { echo "building MinIO $(MINIO_VERSION) (once, a few minutes)"; $(GO) install github.com/minio/minio@$(MINIO_VERSION); }

unit:
	CI=$${CI:-1} PATH="$(GOBIN):$$PATH" $(GO) test -count=1 -timeout 45m ./...

# Every fuzz target runs briefly: every Fuzz function that `go test -list`
# finds, in every package whose tests have one (a provider's own fuzz
# target needs no line here). Crashers found are kept in
# <package>/testdata/fuzz as seed corpus. The budget is a count of inputs,
# not a duration: go1.26's coordinator can report a spurious "context
# deadline exceeded" when a -fuzztime duration expires (golang/go#75804,
# fixed in go1.27). Minimization is capped: it would otherwise eat the whole
# budget on one input. Each target gets FUZZ_INPUTS inputs, or what
# FUZZ_MORE gives it; FUZZSCALE (a number, 0.05 for a quick run) multiplies
# every count.
FUZZSCALE ?= 1
FUZZ_INPUTS = 20000
FUZZ_MORE = FuzzParseDecimal:200000 FuzzDecodeSmall:50000
fuzz:
	@for pkg in $$(grep -l '^func Fuzz' $$(git ls-files '*_test.go') | xargs -n1 dirname | sort -u); do \
	  for fn in $$($(GO) test -list '^Fuzz' ./$$pkg | grep '^Fuzz'); do \
	    n=$(FUZZ_INPUTS); for m in $(FUZZ_MORE); do if [ "$${m%%:*}" = "$$fn" ]; then n=$${m##*:}; fi; done; \
	    n=$$(awk "BEGIN { n = int($$n * $(FUZZSCALE)); print (n < 1 ? 1 : n) }"); \
	    echo "fuzz $$pkg $$fn ($$n inputs)"; \
	    $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $${n}x -fuzzminimizetime 5s -timeout 10m || exit 1; \
	  done; \
	done

# The SAM template, checked offline (the SAM transform included).
cfn:
	cfn-lint template.yaml

# The Lambda binary: provided.al2023 on arm64, no cgo, no RPC shim.
# sam build calls build-ExportFunction (template.yaml: BuildMethod makefile)
# with ARTIFACTS_DIR set; make lambda writes bin/bootstrap.
ARTIFACTS_DIR ?= bin
lambda build-ExportFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./cmd/lambda

# docs/performance.md: the Go benchmarks of each stage (decode, transform,
# Parquet writers, end to end; 200k generated lines), then the table against
# DuckDB, the Lambda's size and cold start, and the rate-limited backfill.
bench:
	$(GO) test -run '^$$' -bench 'WarpStreamTokens|WarpStreamTransform|Writers|ReplayWarpStream' -benchmem ./transform/warpstream ./load .
	PATH="$(GOBIN):$$PATH" $(GO) run ./internal/bench -big -shapes wide,products40,digits17
