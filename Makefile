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
#   make release-snapshot  the whole release into dist/, no push, no signing
#                (docs/releasing.md)
#   make e2e     real cluster + Keycloak + Dex (kind when Docker answers, else local): docs/e2e.md
#   make bench   fedtoken side by side with its peers, one markdown table
#                (docs/benchmarks.md); never part of test or CI

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

# The release tooling (docs/releasing.md). `each` runs a command in every
# module with GOWORK=off, our own modules resolved from a file proxy of the
# working tree: go.mod files carry no replace directives (go.work is the
# local mechanism), yet each module must build and tidy on its own.
RELEASE_TOOL := $(TOOLS_DIR)/fedtoken-release
.PHONY: $(RELEASE_TOOL)
$(RELEASE_TOOL):
	@cd release && $(GO) build -o $@ ./cmd/fedtoken-release

lint: $(TOOLS_DIR)/staticcheck $(RELEASE_TOOL)
	@out=$$(gofmt -l $(ALL_GO_MOD_DIRS)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for d in $(ALL_GO_MOD_DIRS); do (cd $$d && echo "staticcheck $$d" && $(TOOLS_DIR)/staticcheck ./...) || exit 1; done
	@bad=$$(grep -l '^replace\|^[[:space:]]*replace[[:space:]]' $(addsuffix /go.mod,$(ALL_GO_MOD_DIRS)) tools/go.mod || true); \
		if [ -n "$$bad" ]; then echo "replace directives in $$bad: go.work is the local mechanism (docs/releasing.md)"; exit 1; fi
	@$(RELEASE_TOOL) each -- $(GO) build ./... 2> >(grep -v '^go: downloading' >&2)
	@$(MAKE) --no-print-directory check-deps

# Dependencies flow one way (docs/architecture.md): core needs only the
# standard library, x/oauth2, x/sync, x/sys and a YAML decoder; mockidp is an
# independent oracle and never imports core; the injector (the one module
# that talks to the Kubernetes API) uses only core of our modules, and no
# other shipped module links client-go.
CORE_ALLOWED_DEPS := golang.org/x/oauth2 golang.org/x/sync golang.org/x/sys sigs.k8s.io/yaml go.yaml.in/yaml
.PHONY: check-deps
check-deps:
	@bad=$$(cd core && $(GO) list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./... | grep -v '^github.com/fedtoken/fedtoken/core' \
		| grep -vE '^($(subst $(space),|,$(CORE_ALLOWED_DEPS)))(/|$$)' || true); \
		if [ -n "$$bad" ]; then echo "core must not depend on:"; echo "$$bad"; exit 1; fi
	@if (cd mockidp && $(GO) list -deps ./... | grep -q '^github.com/fedtoken/fedtoken/core'); then \
		echo "mockidp must not import core"; exit 1; fi
	@bad=$$(cd injector && $(GO) list -deps ./... | grep -E '^github.com/fedtoken/fedtoken/(cli|sidecar|mockidp|e2e|release)(/|$$)' || true); \
		if [ -n "$$bad" ]; then echo "injector may use only core of our modules, not:"; echo "$$bad"; exit 1; fi
	@bad=$$(for d in core cli sidecar mockidp; do (cd $$d && $(GO) list -deps ./... | grep -E '^(github.com/fedtoken/fedtoken/injector|k8s.io/client-go)(/|$$)'); done || true); \
		if [ -n "$$bad" ]; then echo "only the injector (and e2e) may depend on the injector or client-go:"; echo "$$bad" | sort -u; exit 1; fi
	@echo "check-deps: core, mockidp and injector dependencies are as designed"

# `make build`: every command for this machine into bin/ — static, stripped,
# -trimpath, version-stamped: the same build as the release binaries
# (release/dist). The images carry Debian's CA bundle: `ca-bundle` installs
# ca-certificates when it is missing (root with apt-get), else says what to do.
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null)
CA_BUNDLE   ?= /etc/ssl/certs/ca-certificates.crt
export VERSION COMMIT CA_BUNDLE

build: $(RELEASE_TOOL)
	@$(RELEASE_TOOL) build -bin $(CURDIR)/bin -version $(VERSION) -commit $(COMMIT)

.PHONY: ca-bundle
ca-bundle:
	@if [ ! -s $(CA_BUNDLE) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "ca-bundle: installing Debian's ca-certificates for the images"; \
	    apt-get install -y --no-install-recommends ca-certificates >/dev/null 2>&1 || \
	      { apt-get update >/dev/null && apt-get install -y --no-install-recommends ca-certificates >/dev/null; } || exit 1; \
	  else echo "ca-bundle: no CA bundle at $(CA_BUNDLE): install Debian's ca-certificates (apt-get install ca-certificates) or set CA_BUNDLE=<PEM file>"; exit 1; fi; \
	fi

# `make release-snapshot`: the whole release, locally, into dist/ — binaries
# for linux/darwin/windows × amd64/arm64, SBOMs, SHA256SUMS, multi-arch image
# indexes (OCI layouts) — then checks it (fedtoken-release verify). Nothing is
# pushed or signed: the release workflow does that (docs/releasing.md).
SNAPSHOT_VERSION ?= v0.0.0-snapshot.$(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
.PHONY: release-snapshot release-prepare
# `make release-prepare RELEASE_VERSION=vX.Y.Z`: our modules require each
# other at vX.Y.Z (go.mod) and go.work maps that version to the directories.
release-prepare: $(RELEASE_TOOL)
	@test -n "$(RELEASE_VERSION)" || { echo "set RELEASE_VERSION=vX.Y.Z"; exit 1; }
	$(RELEASE_TOOL) prepare -version $(RELEASE_VERSION)

release-snapshot: $(RELEASE_TOOL) ca-bundle
	$(RELEASE_TOOL) snapshot -dist $(CURDIR)/dist -version $(SNAPSHOT_VERSION) -commit $(COMMIT) \
		-source-date-epoch $(SOURCE_DATE_EPOCH) -ca-bundle $(CA_BUNDLE)
	$(RELEASE_TOOL) verify -dist $(CURDIR)/dist -version $(SNAPSHOT_VERSION) -commit $(COMMIT)

# The README's first command: fedtoken against fedtoken-mockidp in cluster mode.
demo: build
	cd cli && $(GO) run ./internal/demo/fedtoken-demo --bin $(CURDIR)/bin

# `go mod tidy` ignores go.work, so it runs through the file proxy too; the
# go.sum files never hold lines for our own modules (they change with every
# edit, and go.work needs none).
tidy: $(RELEASE_TOOL)
	@$(RELEASE_TOOL) each -write -- $(GO) mod tidy 2> >(grep -v '^go: downloading' >&2)
	cd tools && GOWORK=off $(GO) mod tidy

check-tidy: tidy
	@git diff --exit-code -- go.work '**/go.mod' '**/go.sum' || { echo "go mod tidy changed files: run make tidy"; exit 1; }

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

images: build ca-bundle
	e2e/scripts/build-images.sh

# The secret scan covers e2e too: every component's logs are collected
# into $(E2E_SCAN_DIR) (E2E_ALWAYS_COLLECT), mockidp records what it issued
# there, and a harness may drop more *.secrets files (one per line) in
# $$FEDTOKEN_SECRETS_DIR.
E2E_SCAN_DIR ?= $(CURDIR)/_artifacts/e2e-scan
e2e: e2e-peers images $(if $(filter kind,$(E2E_CLUSTER)),e2e-kind-prepare)
	@echo "e2e: backend $(E2E_CLUSTER)"
	@rm -rf $(E2E_SCAN_DIR) && mkdir -p $(E2E_SCAN_DIR)/secrets
	cd e2e && E2E_CLUSTER=$(E2E_CLUSTER) FEDTOKEN_SECRETS_DIR=$(E2E_SCAN_DIR)/secrets E2E_ALWAYS_COLLECT=1 E2E_ARTIFACTS=$(E2E_SCAN_DIR)/artifacts \
	  $(GO) test -tags e2e $(E2E_FLAGS) -timeout $(E2E_TIMEOUT) ./... 2>&1 | tee $(E2E_SCAN_DIR)/e2e.log; exit $${PIPESTATUS[0]}
	@$(MAKE) --no-print-directory SCAN_DIR=$(E2E_SCAN_DIR) secretscan

# `make bench`: the whole side-by-side table with the load average of each
# row (docs/benchmarks.md). Installs its peers on demand (nginx from Debian,
# kubelogin built from the Go proxy into $(FEDTOKEN_E2E_CACHE)); a benchmark
# never fails a run, so this is in neither `make test` nor .ci/run.
.PHONY: bench
bench:
	@bash tools/bench.sh

clean:
	rm -rf bin .tools dist
.SECONDARY:
