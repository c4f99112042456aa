# Parley's developer commands. `make help` lists them.
SHELL := /bin/bash
GO_TOOL := go tool -modfile=tools/go.mod
# Builds, tests and tools run on Go 1.27.3, fetched once from the Go module
# proxy: govulncheck finds vulnerabilities in Go 1.26.8's standard library
# (net/http, html/template, crypto/x509) fixed there. A machine ignores
# go.mod's toolchain line while its GOTOOLCHAIN is local, so it is set here.
export GOTOOLCHAIN := go1.27.3

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

.PHONY: run
run: build ## start Parley on embedded defaults (a local PostgreSQL cluster under ./data)
	@# The binary itself, not go run: Ctrl-C is then a clean stop, not "Error 1".
	exec bin/parley serve -log-format console

.PHONY: build
build: ## build the parley binary into bin/
	CGO_ENABLED=0 go build -trimpath -o bin/parley ./cmd/parley

.PHONY: test
test: ## run every test with the race detector against real PostgreSQL
	go test -race -count=1 -timeout 20m ./...

.PHONY: test-faults
test-faults: ## crash, database outage, SIGTERM and soak tests against a parley subprocess (about 3 minutes)
	go test -race -tags faults -count=1 -timeout 15m -v ./test/faults/

.PHONY: test-e2e
test-e2e: ## the web page in Debian's Chromium: two browsers sign up and chat live (screenshots in artifacts/e2e)
	cd web/e2e && npm ci --no-audit --no-fund
	go test -tags e2e -count=1 -timeout 10m -v ./test/e2e/

# Fuzz targets, one at a time (go test -fuzz takes one package); FUZZTIME each.
FUZZTIME ?= 1m
FUZZ_VALIDATORS := commonrules feedrules gatewayrules grouprules messagerules userrules

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 1m) each; plain `make test` runs their seeds
	@for pkg in $(FUZZ_VALIDATORS); do \
		go test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s -parallel 2 ./api/rules/$$pkg || exit 1; \
	done
	go test -run '^$$' -fuzz '^FuzzFrames$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s -parallel 1 ./modules/gateway/

.PHONY: generate
generate: ## regenerate the gRPC and REST code, the OpenAPI document and the wire-contract listing (buf), and the SQL code (sqlc)
	$(GO_TOOL) buf generate
	$(GO_TOOL) sqlc generate

.PHONY: lint
lint: ## buf lint, gofmt, go vet and golangci-lint (.golangci.yml: staticcheck, errcheck, gosec, doc comments on module doors, no module importing another)
	$(GO_TOOL) buf lint
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(GO_TOOL) golangci-lint run ./...

.PHONY: vulncheck
vulncheck: ## govulncheck against the Go vulnerability database pinned in tools/go.mod (offline)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	go mod download -modfile=tools/go.mod golang.org/x/vulndb && \
	osv="$$(go list -modfile=tools/go.mod -m -f '{{.Dir}}' golang.org/x/vulndb)/data/osv" && \
	$(GO_TOOL) indexdb -vulns "$$osv" -out $$tmp/db && \
	$(GO_TOOL) govulncheck -db file://$$tmp/db ./...

.PHONY: verify
verify: lint vulncheck ## lint, vulnerabilities, and check the generated code is up to date
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	$(GO_TOOL) buf generate -o $$tmp && \
	diff -r $$tmp/api/gen api/gen && \
	diff $$tmp/api/openapi/parley.swagger.json api/openapi/parley.swagger.json && \
	diff $$tmp/api/wire-contract.txt api/wire-contract.txt || \
		{ echo "generated code is out of date: run 'make generate' and commit the result (a change to api/wire-contract.txt is a change clients see)"; exit 1; }
	$(GO_TOOL) sqlc diff || { echo "sqlc code is out of date: run 'make generate' and commit the result"; exit 1; }

# What `make breaking` compares with: main, or BREAKING_AGAINST=<buf input>.
BREAKING_AGAINST ?= .git\#branch=main

.PHONY: breaking
breaking: ## check the .proto files against main for wire-breaking changes (CI runs it)
	$(GO_TOOL) buf breaking --against '$(BREAKING_AGAINST)'

.PHONY: bench
bench: build ## run every benchmark scenario (about 10 minutes; writes bench.json)
	go run ./cmd/parley-bench -parley-bin bin/parley -json bench.json

.PHONY: bench-quick
bench-quick: build ## a short, small run of every scenario that fails only on a lost, duplicated, reordered or wrong result (targets are reported, not required)
	go run ./cmd/parley-bench -parley-bin bin/parley -quick -fail-on integrity -json bench-quick.json
