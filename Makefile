# fedtoken — one Makefile for every module of the workspace.
#
#   make test    go vet + go test -race for every module (no Docker, no root)
#   make lint    gofmt check + staticcheck + govulncheck-free lint (pinned in tools/)
#   make build   the binaries into ./bin
#   make demo    build, then the one-command tour (no outside services): docs/cli.md
#   make tidy    go mod tidy in every module (CI fails when it changes files)
#   make images  image tarballs of the binaries, no Docker daemon (bin/images)
#   make e2e     real cluster + Keycloak + Dex (kind when Docker answers, else local): docs/e2e.md

SHELL := /bin/bash
space := $(subst ,, )
GO    ?= go
# Modules are listed in go.work; each go.mod is the truth (see docs/architecture.md).
ALL_GO_MOD_DIRS := $(shell $(GO) work edit -json | awk -F'"' '/DiskPath/ {sub("^\\./", "", $$4); print $$4}')
TOOLS_DIR := $(CURDIR)/.tools
GOTEST_FLAGS ?= -race -count=1 -timeout 10m

.PHONY: all test lint build demo tidy check-tidy clean

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

# Backend: kind when a Docker daemon answers, the local host-process cluster
# otherwise; E2E_CLUSTER=kind|local overrides (kind starts dockerd itself
# when it can, see e2e/scripts/start-dockerd.sh).
ifeq ($(origin E2E_CLUSTER),undefined)
E2E_CLUSTER := $(shell timeout 20 docker info >/dev/null 2>&1 && echo kind || echo local)
endif

.PHONY: e2e e2e-peers e2e-kind-prepare images
e2e-peers:
	e2e/scripts/install-peers.sh

# The Docker daemon, the kind node image (built here from the pinned versions
# unless E2E_KIND_NODE_IMAGE names one, e.g. the upstream kindest/node) and
# the IdP images testcontainers-go runs (E2E_{KEYCLOAK,DEX}_IMAGE override).
e2e-kind-prepare:
	e2e/scripts/start-dockerd.sh
	@if [ -z "$$E2E_KIND_NODE_IMAGE" ]; then e2e/scripts/build-kind-node.sh >/dev/null; fi
	e2e/scripts/build-idp-images.sh

images: build
	e2e/scripts/build-images.sh

e2e: e2e-peers images $(if $(filter kind,$(E2E_CLUSTER)),e2e-kind-prepare)
	@echo "e2e: backend $(E2E_CLUSTER)"
	cd e2e && E2E_CLUSTER=$(E2E_CLUSTER) $(GO) test -tags e2e $(E2E_FLAGS) -timeout $(E2E_TIMEOUT) ./...

clean:
	rm -rf bin .tools
.SECONDARY:
