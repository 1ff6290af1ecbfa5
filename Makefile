# vanthu: `make run` starts the service on its embedded default; `make test`
# prepares what the tests need and runs the whole suite.
SHELL := /bin/bash
export GOTOOLCHAIN := auto

TOOLS_DIR ?= $(HOME)/.cache/vanthu-tools
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
export VANTHU_MINIO_BIN ?= $(TOOLS_DIR)/minio
DATA_DIR ?= ./var
ADDR ?= 127.0.0.1:8080
BIN := bin/vanthu

.PHONY: all build run test bench deps deps-run minio fuzz clean assets

all: build

# build installs two binaries: bin/vanthu-service (cmd/vanthu, every
# subcommand) and bin/vanthu (cmd/vanthu-cli: static, only `verify` and
# `version` of its own, hands the rest to vanthu-service beside it), so a
# one-file `vanthu verify` starts without the service's 440 packages.
build: assets
	go build -o bin/vanthu-service ./cmd/vanthu
	CGO_ENABLED=0 go build -o $(BIN) ./cmd/vanthu-cli

# assets installs the pages' npm packages from web/ui/package-lock.json
# (npm ci) and copies what the pages load into web/ui/static/vendor, which
# the binary embeds. Generated, never committed; rebuilt when the lockfile
# or the script changes.
ASSETS_STAMP := web/ui/static/vendor/.built
assets: $(ASSETS_STAMP)

$(ASSETS_STAMP): web/ui/package.json web/ui/package-lock.json scripts/build-assets.sh
	./scripts/build-assets.sh

# deps-run installs what `make run` needs (PostgreSQL server binaries).
deps-run:
	./scripts/install-deps.sh run

# deps installs everything the test suite needs.
deps: minio
	./scripts/install-deps.sh test

minio: $(VANTHU_MINIO_BIN)

# MinIO is built once from source into the tools directory, outside the
# repository (and outside its go.mod: `go install pkg@version` from /tmp), then
# moved to where the harness looks, so a custom VANTHU_MINIO_BIN works too.
$(VANTHU_MINIO_BIN):
	mkdir -p $(TOOLS_DIR)/.build "$(dir $(VANTHU_MINIO_BIN))"
	cd /tmp && GOBIN=$(TOOLS_DIR)/.build GOTOOLCHAIN=auto GOFLAGS= go install github.com/minio/minio@$(MINIO_VERSION)
	mv $(TOOLS_DIR)/.build/minio "$(VANTHU_MINIO_BIN)"

run: deps-run build
	./$(BIN) serve --demo --addr $(ADDR) --data-dir $(DATA_DIR)

test: deps assets
	go vet ./...
	go run ./internal/testharness/cmd/testenv -- go test -race -timeout 40m ./...

# `make test` runs every fuzz target over its seeds and the inputs kept in
# testdata/fuzz (each crash the fuzzer ever found stays there), which is
# deterministic. Exploring for new inputs is `make fuzz`: a random search
# belongs before a commit, not in the check that decides whether it lands.
#
# fuzz runs the fuzz targets of every parser of untrusted input (PDF, CMS,
# PKCS#12, PNG, fonts, JSON bodies and cursors, scans, page extraction,
# symbols, layouts, PKCS#11 URIs), of the register book and of the verifier,
# FUZZTIME each. Minimising a new interesting input is capped at
# FUZZMINIMIZE executions so the time goes to fuzzing: with Go's default of
# 60 s per input FuzzVerify ran 32 inputs in 4 minutes, and even with 2 s it
# ran 4 a second, since nearly every early input is new coverage.
# BENCHMARKS.md records executions per second.
FUZZTIME ?= 60s
FUZZMINIMIZE ?= 20x
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE)
fuzz:
	go test $(FUZZFLAGS) -fuzz '^FuzzOpen$$' ./signing/pdf
	go test $(FUZZFLAGS) -fuzz '^FuzzVerify$$' ./signing/verify
	go test $(FUZZFLAGS) -fuzz '^FuzzCheckPDF$$' ./documents
	go test $(FUZZFLAGS) -fuzz '^FuzzParsePKCS11URI$$' ./signing/keys
	go test $(FUZZFLAGS) -fuzz '^FuzzDecodePKCS12$$' ./signing/keys
	go test $(FUZZFLAGS) -fuzz '^FuzzParse$$' ./signing/verify/cms
	go test $(FUZZFLAGS) -fuzz '^FuzzPageContent$$' ./signing/verify/diff
	go test $(FUZZFLAGS) -fuzz '^FuzzFontProgram$$' ./signing/verify/diff
	go test $(FUZZFLAGS) -fuzz '^FuzzDecodeJSON$$' ./web
	go test $(FUZZFLAGS) -fuzz '^FuzzParseLayout$$' ./storage/blob/s3
	go test $(FUZZFLAGS) -fuzz '^FuzzDecodeCursor$$' ./documents
	go test $(FUZZFLAGS) -fuzz '^FuzzSymbol$$' ./documents/reception
	go test $(FUZZFLAGS) -fuzz '^FuzzWrite$$' ./documents/register/book
	go test $(FUZZFLAGS) -fuzz '^FuzzDecodeSignaturePNG$$' ./documents/docsign
	go test $(FUZZFLAGS) -fuzz '^FuzzCheck$$' ./documents/scancheck
	go test $(FUZZFLAGS) -fuzz '^FuzzDueJSON$$' ./documents/handling
	go test $(FUZZFLAGS) -fuzz '^FuzzExtractPages$$' ./documents/copies
	go test $(FUZZFLAGS) -fuzz '^FuzzShownSigner$$' ./documents/publicverify

bench: deps build
	go run ./internal/testharness/cmd/testenv -- go test -run '^$$' -bench . -benchmem -count 5 -timeout 60m ./...

clean:
	rm -rf bin web/ui/static/vendor web/ui/node_modules

# screenshots takes the README's pictures (docs/screenshots) from the demo
# office: `vanthu serve --demo` on a temporary data directory, driven by
# Chromium through each role's main pages in Vietnamese.
.PHONY: screenshots
screenshots: build
	go run ./scripts/screenshots -bin $(BIN) -out docs/screenshots
