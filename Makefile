# make test: everything CI runs. make bench: the performance table.
GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
# The real MinIO server, built from the Go module proxy (about 5-8 minutes
# the first time; cached in GOBIN afterwards).
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
FUZZTIME  ?= 10s

.PHONY: test lint unit fuzz minio cfn lambda build-ExportFunction bench

test: lint minio cfn unit fuzz

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -w needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

minio:
	@test -x $(GOBIN)/minio || { echo "building MinIO $(MINIO_VERSION) (once, a few minutes)"; $(GO) install github.com/minio/minio@$(MINIO_VERSION); }

unit:
	PATH="$(GOBIN):$$PATH" $(GO) test -count=1 -timeout 45m ./...

# Every decoder's fuzz target runs briefly; crashers found are kept in
# <package>/testdata/fuzz as seed corpus. Minimization is capped: it would
# otherwise eat the whole budget on one input.
FUZZ_TARGETS = transform:FuzzParseDecimal transform:FuzzWarpStreamBreakdowns transform:FuzzWarpStreamInvoice transform:FuzzCockroachInvoice transform:FuzzSpectroInvoice
fuzz:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  $(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s || exit 1; done

# The SAM template, checked offline (the SAM transform included).
cfn:
	cfn-lint template.yaml

# The Lambda binary: provided.al2023 on arm64, no cgo, no RPC shim.
# sam build calls build-ExportFunction (template.yaml: BuildMethod makefile)
# with ARTIFACTS_DIR set; make lambda writes bin/bootstrap.
ARTIFACTS_DIR ?= bin
lambda build-ExportFunction:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./cmd/lambda

# The performance table of docs/performance.md.
bench:
	PATH="$(GOBIN):$$PATH" $(GO) run ./internal/bench -big
