# fedtoken — one Makefile for every module of the workspace.
#
#   make test    go vet + go test -race for every module (no Docker, no root)
#   make lint    gofmt check + staticcheck + govulncheck-free lint (pinned in tools/)
#   make build   the binaries into ./bin
#   make tidy    go mod tidy in every module (CI fails when it changes files)

SHELL := /bin/bash
GO    ?= go
# Modules are listed in go.work; each go.mod is the truth (see docs/architecture.md).
ALL_GO_MOD_DIRS := $(shell $(GO) work edit -json | awk -F'"' '/DiskPath/ {sub("^\\./", "", $$4); print $$4}')
TOOLS_DIR := $(CURDIR)/.tools
GOTEST_FLAGS ?= -race -count=1 -timeout 10m

.PHONY: all test lint build tidy check-tidy clean

all: lint test

test: $(addprefix test/,$(ALL_GO_MOD_DIRS))

test/%: vet/%
	cd $* && $(GO) test $(GOTEST_FLAGS) ./...

vet/%:
	cd $* && $(GO) vet ./...

# Tools are pinned with `tool` directives in tools/go.mod (not in go.work).
$(TOOLS_DIR)/staticcheck: tools/go.mod tools/go.sum
	cd tools && GOWORK=off $(GO) build -o $(TOOLS_DIR)/staticcheck honnef.co/go/tools/cmd/staticcheck

lint: $(TOOLS_DIR)/staticcheck
	@out=$$(gofmt -l $(ALL_GO_MOD_DIRS)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for d in $(ALL_GO_MOD_DIRS); do (cd $$d && echo "staticcheck $$d" && $(TOOLS_DIR)/staticcheck ./...) || exit 1; done
	@for d in $(ALL_GO_MOD_DIRS); do (cd $$d && GOWORK=off $(GO) build ./...) || { echo "GOWORK=off build failed in $$d"; exit 1; }; done

tidy:
	@for d in $(ALL_GO_MOD_DIRS); do (cd $$d && $(GO) mod tidy) || exit 1; done
	cd tools && GOWORK=off $(GO) mod tidy

check-tidy: tidy
	@git diff --exit-code -- '**/go.mod' '**/go.sum' || { echo "go mod tidy changed files: run make tidy"; exit 1; }

clean:
	rm -rf bin .tools
.SECONDARY:
