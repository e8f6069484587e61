# fedtoken — one Makefile for every module of the workspace.
#
#   make test    go vet + go test -race for every module (no Docker, no root),
#                then the secret scan of everything the run logged
#   make matrix  every row of the fault and abuse matrix (docs/security.md)
#   make soak    the sidecar under traffic across subject rotations and IdP
#                faults, bounded to 10 min (docs/security.md)
#   make lint    gofmt check + staticcheck + govulncheck-free lint (pinned in tools/)
#   make build   the binaries into ./bin
#   make demo    build, then the one-command tour (no outside services): docs/cli.md
#   make tidy    go mod tidy in every module (CI fails when it changes files)
#   make images  image tarballs of the binaries, no Docker daemon (bin/images)
#   make e2e     real cluster + Keycloak + Dex, as root on Linux: docs/e2e.md

SHELL := /bin/bash
space := $(subst ,, )
GO    ?= go
# Modules are listed in go.work; each go.mod is the truth (see docs/architecture.md).
ALL_GO_MOD_DIRS := $(shell $(GO) work edit -json | awk -F'"' '/DiskPath/ {sub("^\\./", "", $$4); print $$4}')
TOOLS_DIR := $(CURDIR)/.tools
GOTEST_FLAGS ?= -race -count=1 -timeout 10m

.PHONY: all test lint build demo tidy check-tidy clean matrix soak

all: lint test

# Every test run is scanned for leaked secrets: the IdPs of the run
# (mockidp) record what they issue in $(SCAN_DIR)/secrets, the full -v
# output of each module goes to $(SCAN_DIR)/test-<module>.log, and
# fedtoken-secretscan fails the run if any log holds any issued secret.
SCAN_DIR ?= $(CURDIR)/_artifacts/test
SECRETSCAN = cd $(CURDIR)/mockidp && $(GO) run ./cmd/fedtoken-secretscan

test:
	@rm -rf $(SCAN_DIR) && mkdir -p $(SCAN_DIR)/secrets
	@$(MAKE) --no-print-directory $(addprefix test/,$(ALL_GO_MOD_DIRS))
	@$(MAKE) --no-print-directory secretscan

test/%: vet/%
	@mkdir -p $(SCAN_DIR)/secrets
	@echo "go test $*"
	@log=$(SCAN_DIR)/test-$(subst /,-,$*).log; \
	  (cd $* && FEDTOKEN_SECRETS_DIR=$(SCAN_DIR)/secrets $(GO) test $(GOTEST_FLAGS) -v $(GOTEST_TAGS) ./...) > $$log 2>&1; st=$$?; \
	  grep -E '^(ok|FAIL|panic:)' $$log; \
	  if [ $$st -ne 0 ]; then grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS|--- SKIP|PASS$$)' $$log | tail -n 400; echo "full log: $$log"; fi; \
	  exit $$st

.PHONY: secretscan
secretscan:
	@$(SECRETSCAN) --secrets $(SCAN_DIR)/secrets $(SCAN_DIR)

# The fault and abuse matrix: `make test` runs its fast rows; this runs
# every row (build tag matrix).
matrix:
	@$(MAKE) --no-print-directory SCAN_DIR=$(CURDIR)/_artifacts/matrix GOTEST_TAGS='-tags matrix -run Matrix' test/core test/sidecar
	@$(MAKE) --no-print-directory SCAN_DIR=$(CURDIR)/_artifacts/matrix secretscan

# The soak: real binaries (make build), bounded to 10 minutes.
SOAK_FLAGS ?=
soak: build
	@rm -rf $(CURDIR)/_artifacts/soak && mkdir -p $(CURDIR)/_artifacts/soak/secrets
	cd sidecar && FEDTOKEN_SECRETS_DIR=$(CURDIR)/_artifacts/soak/secrets FEDTOKEN_SOAK_BIN=$(CURDIR)/bin \
	  FEDTOKEN_SOAK_LOGS=$(CURDIR)/_artifacts/soak $(GO) test -tags soak -run Soak -count=1 -v -timeout 11m $(SOAK_FLAGS) ./internal/soak/ \
	  2>&1 | tee $(CURDIR)/_artifacts/soak/soak.log; exit $${PIPESTATUS[0]}
	@$(MAKE) --no-print-directory SCAN_DIR=$(CURDIR)/_artifacts/soak secretscan

vet/%:
	cd $* && $(GO) vet ./...

# Tools are pinned with `tool` directives in tools/go.mod (not in go.work).
$(TOOLS_DIR)/staticcheck: tools/go.mod tools/go.sum
	cd tools && GOWORK=off $(GO) build -o $(TOOLS_DIR)/staticcheck honnef.co/go/tools/cmd/staticcheck

lint: $(TOOLS_DIR)/staticcheck
	@out=$$(gofmt -l $(ALL_GO_MOD_DIRS)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for d in $(ALL_GO_MOD_DIRS); do (cd $$d && echo "staticcheck $$d" && $(TOOLS_DIR)/staticcheck ./...) || exit 1; done
	@for d in $(ALL_GO_MOD_DIRS); do (cd $$d && GOWORK=off $(GO) build ./...) || { echo "GOWORK=off build failed in $$d"; exit 1; }; done
	@$(MAKE) --no-print-directory check-deps

# Dependencies flow one way (docs/architecture.md): core needs only the
# standard library, x/oauth2, x/sync, x/sys and a YAML decoder; mockidp is an
# independent oracle and never imports core.
CORE_ALLOWED_DEPS := golang.org/x/oauth2 golang.org/x/sync golang.org/x/sys sigs.k8s.io/yaml go.yaml.in/yaml
.PHONY: check-deps
check-deps:
	@bad=$$(cd core && $(GO) list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./... | grep -v '^github.com/fedtoken/fedtoken/core' \
		| grep -vE '^($(subst $(space),|,$(CORE_ALLOWED_DEPS)))(/|$$)' || true); \
		if [ -n "$$bad" ]; then echo "core must not depend on:"; echo "$$bad"; exit 1; fi
	@if (cd mockidp && $(GO) list -deps ./... | grep -q '^github.com/fedtoken/fedtoken/core'); then \
		echo "mockidp must not import core"; exit 1; fi
	@echo "check-deps: core and mockidp dependencies are as designed"

# Binaries of `make build`: <module>/cmd/<name> → bin/<name>; absent ones are skipped.
BINARIES    ?= cli/cmd/fedtoken mockidp/cmd/fedtoken-mockidp sidecar/cmd/fedtoken-sidecar
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
VERSION_PKG := github.com/fedtoken/fedtoken/cli/internal/cmd/fedtoken/version

build:
	@mkdir -p bin
	@for b in $(BINARIES); do \
	  mod=$${b%%/*}; name=$${b##*/}; \
	  if [ ! -d $$b ]; then echo "skip $$b (not there yet)"; continue; fi; \
	  echo "go build $$b -> bin/$$name"; \
	  (cd $$mod && CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X $(VERSION_PKG).version=$(VERSION)" -o $(CURDIR)/bin/$$name ./$${b#*/}) || exit 1; \
	done

# The README's first command: fedtoken against fedtoken-mockidp in cluster mode.
demo: build
	cd cli && $(GO) run ./internal/demo/fedtoken-demo --bin $(CURDIR)/bin

tidy:
	@for d in $(ALL_GO_MOD_DIRS); do (cd $$d && $(GO) mod tidy) || exit 1; done
	cd tools && GOWORK=off $(GO) mod tidy

check-tidy: tidy
	@git diff --exit-code -- '**/go.mod' '**/go.sum' || { echo "go mod tidy changed files: run make tidy"; exit 1; }

# --- end-to-end (docs/e2e.md) -----------------------------------------------
# e2e-peers installs/builds Kubernetes, etcd, Dex, Keycloak, containerd… into
# $(FEDTOKEN_E2E_CACHE) (default /var/cache/fedtoken-e2e); a warm run takes seconds.
E2E_TIMEOUT ?= 60m
E2E_FLAGS   ?= -count=1 -v

.PHONY: e2e e2e-peers images
e2e-peers:
	e2e/scripts/install-peers.sh

images: build
	e2e/scripts/build-images.sh

# The secret scan covers e2e too: every component's logs are collected
# into $(E2E_SCAN_DIR) (E2E_ALWAYS_COLLECT), mockidp records what it issued
# there, and a harness may drop more *.secrets files (one per line) in
# $$FEDTOKEN_SECRETS_DIR.
E2E_SCAN_DIR ?= $(CURDIR)/_artifacts/e2e-scan
e2e: e2e-peers images
	@rm -rf $(E2E_SCAN_DIR) && mkdir -p $(E2E_SCAN_DIR)/secrets
	cd e2e && FEDTOKEN_SECRETS_DIR=$(E2E_SCAN_DIR)/secrets E2E_ALWAYS_COLLECT=1 E2E_ARTIFACTS=$(E2E_SCAN_DIR)/artifacts \
	  $(GO) test -tags e2e $(E2E_FLAGS) -timeout $(E2E_TIMEOUT) ./... 2>&1 | tee $(E2E_SCAN_DIR)/e2e.log; exit $${PIPESTATUS[0]}
	@$(MAKE) --no-print-directory SCAN_DIR=$(E2E_SCAN_DIR) secretscan

clean:
	rm -rf bin .tools
.SECONDARY:
