#!/usr/bin/env bash
# install-peers.sh — install and build everything `make e2e` runs against.
#
#   Debian packages   containerd, runc, CNI plugins, iproute2, openssl, unzip (apt-get)
#   Kubernetes        kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl
#   etcd              the server
#   Dex               cmd/dex, CGO_ENABLED=0
#   Keycloak          the Quarkus distribution from Maven Central
#   pause image       registry.k8s.io/pause:<tag> as an OCI tarball, built from e2e/cmd/pause
#   opencode          npm opencode-ai (brings the linux binary), scripts not run
#   kubeadm, crictl   only for the kind node image (e2e/scripts/build-kind-node.sh
#                     asks for them; not in the default list)
#
# Builds land OUTSIDE the repo, one directory per component and version:
#   ${FEDTOKEN_E2E_CACHE:-/var/cache/fedtoken-e2e}/<component>-<version>/
# Each directory holds a .stamp naming its inputs; a directory whose stamp
# matches is reused, so a second run takes seconds. Versions: e2e/peers/versions.env.
# Go modules are built from the wrapper modules under e2e/peers/<component>/
# (their go.mod/go.sum are committed); the build copies them into the cache so
# the work tree is never written.
#
# Usage: e2e/scripts/install-peers.sh [--no-apt] [component...]
#   components: apt kubernetes etcd dex keycloak pause opencode kubeadm crictl
#   (default: all but kubeadm and crictl)
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../peers/versions.env
source "$E2E_DIR/peers/versions.env"
CACHE="${FEDTOKEN_E2E_CACHE:-/var/cache/fedtoken-e2e}"
GO="${GO:-go}"
STAMP_REV=1 # bump to force rebuilds after changing build flags below

log() { printf '[install-peers %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stamp_of prints the identity of a build: input files (or literal strings),
# toolchain and STAMP_REV. go.sum is not an input: it only records checksums.
stamp_of() {
	local f
	{
		echo "rev=$STAMP_REV"
		for f in "$@"; do
			if [[ -f $f ]]; then sha256sum "$f" | cut -d' ' -f1; else echo "$f"; fi
		done
		"$GO" env GOVERSION GOARCH 2>/dev/null || true
	} | sha256sum | cut -d' ' -f1
}

# fresh DIR STAMP: true when DIR was completed with the same stamp.
fresh() { [[ -f $1/.stamp && "$(cat "$1/.stamp")" == "$2" ]]; }

# finish TMP DIR STAMP: atomically move a completed build into place.
finish() {
	echo "$3" >"$1/.stamp"
	rm -rf "$2"
	mv "$1" "$2"
}

timed() {
	local name=$1 start=$SECONDS
	shift
	"$@"
	log "$name: done in $((SECONDS - start)) s"
}

install_apt() {
	local pkgs=(containerd runc containernetworking-plugins iproute2 openssl unzip ca-certificates util-linux)
	local missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		log "apt: all present (${pkgs[*]})"
		return
	fi
	[[ $(id -u) == 0 ]] || die "apt: missing ${missing[*]}; run as root or install them"
	log "apt: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# The Debian package enables and starts the system containerd where systemd
	# runs; the harness runs its own instance and never touches that one.
}

# build_go NAME VERSION PKG... : build Go packages from the wrapper module
# e2e/peers/NAME (or e2e/peers/$BUILD_SRC) into $CACHE/NAME-VERSION/bin.
build_go() {
	local name=$1 version=$2
	shift 2
	local srcname=${BUILD_SRC:-$name}
	local src="$E2E_DIR/peers/$srcname" dir="$CACHE/$name-$version"
	local stamp
	stamp="$(stamp_of "$src/go.mod" "$*")"
	if fresh "$dir" "$stamp"; then
		log "$name $version: cached in $dir"
		return
	fi
	log "$name $version: building ${*##*/} (first time: minutes)"
	local tmp="$CACHE/.tmp-$name-$version"
	rm -rf "$tmp"
	mkdir -p "$tmp/src" "$tmp/bin"
	cp "$src/go.mod" "$tmp/src/"
	[[ -f $src/go.sum ]] && cp "$src/go.sum" "$tmp/src/"
	local ldflags="-s -w"
	if [[ $srcname == kubernetes ]]; then
		local minor=${version#v1.}
		minor=${minor%%.*}
		ldflags+=" -X k8s.io/component-base/version.gitVersion=$version"
		ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
		ldflags+=" -X k8s.io/component-base/version.gitMinor=$minor"
		ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
		ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"
	fi
	local cgo=1
	[[ $name == dex || $name == crictl ]] && cgo=0
	[[ $name == crictl ]] && ldflags+=" -X sigs.k8s.io/cri-tools/pkg/version.Version=$version"
	(cd "$tmp/src" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=$cgo \
		"$GO" build -trimpath -ldflags "$ldflags" -o "$tmp/bin/" "$@")
	cp "$tmp/src/go.sum" "$tmp/go.sum"
	if [[ ! -f $src/go.sum ]] || ! cmp -s "$src/go.sum" "$tmp/go.sum"; then
		log "$name: note: go.sum differs from e2e/peers/$srcname/go.sum (copy $tmp/go.sum there to pin it)"
	fi
	rm -rf "$tmp/src"
	finish "$tmp" "$dir" "$stamp"
}

install_kubernetes() {
	build_go kubernetes "$KUBERNETES_VERSION" \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler \
		k8s.io/kubernetes/cmd/kubelet \
		k8s.io/kubernetes/cmd/kubectl
}

# kubeadm (kind node image): same wrapper module and flags as the other
# Kubernetes binaries, its own cache directory so adding it never rebuilds them.
install_kubeadm() {
	BUILD_SRC=kubernetes build_go kubeadm "$KUBERNETES_VERSION" k8s.io/kubernetes/cmd/kubeadm
}

install_crictl() {
	build_go crictl "$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
}

install_etcd() {
	build_go etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3
	# The main package at the module root builds as "v3"; give it its name.
	local bin="$CACHE/etcd-$ETCD_VERSION/bin"
	for n in v3 server; do [[ -f $bin/$n ]] && mv "$bin/$n" "$bin/etcd"; done
	[[ -x $bin/etcd ]] || die "etcd: $bin/etcd was not built"
}

install_dex() {
	build_go dex "$DEX_VERSION" github.com/dexidp/dex/cmd/dex
}

install_keycloak() {
	local dir="$CACHE/keycloak-$KEYCLOAK_VERSION"
	local stamp
	stamp="$(stamp_of "keycloak-quarkus-dist:$KEYCLOAK_VERSION")"
	if fresh "$dir" "$stamp"; then
		log "keycloak $KEYCLOAK_VERSION: cached in $dir"
		return
	fi
	command -v mvn >/dev/null || die "keycloak: mvn (Maven) is needed to fetch org.keycloak:keycloak-quarkus-dist"
	command -v java >/dev/null || die "keycloak: java (17, 21 or 25) is needed to run Keycloak"
	local tmp="$CACHE/.tmp-keycloak-$KEYCLOAK_VERSION"
	rm -rf "$tmp"
	mkdir -p "$tmp/dl"
	log "keycloak $KEYCLOAK_VERSION: fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip"
	mvn -B -q dependency:copy \
		-Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
		-DoutputDirectory="$tmp/dl" >/dev/null
	unzip -q "$tmp/dl/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$tmp/dl"
	mv "$tmp/dl/keycloak-$KEYCLOAK_VERSION"/* "$tmp/"
	rm -rf "$tmp/dl"
	finish "$tmp" "$dir" "$stamp"
}

install_pause() {
	local tag=${PAUSE_IMAGE##*:}
	local dir="$CACHE/pause-$tag"
	local stamp
	stamp="$(stamp_of "$E2E_DIR/cmd/pause/main.go" "$E2E_DIR/../release/cmd/ocibuild/main.go" \
		"$E2E_DIR/../release/ociimage/build.go" "$E2E_DIR/../release/go.mod" "$PAUSE_IMAGE")"
	if fresh "$dir" "$stamp"; then
		log "pause $tag: cached in $dir"
		return
	fi
	local tmp="$CACHE/.tmp-pause-$tag"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	(cd "$E2E_DIR" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$tmp/pause" ./cmd/pause)
	(cd "$E2E_DIR/../release" && "$GO" run ./cmd/ocibuild -binary "$tmp/pause" -ref "$PAUSE_IMAGE" \
		-user 65535 -out "$tmp/pause.tar")
	rm -f "$tmp/pause"
	finish "$tmp" "$dir" "$stamp"
}

install_opencode() {
	local dir="$CACHE/opencode-$OPENCODE_VERSION"
	local stamp
	stamp="$(stamp_of "opencode-ai:$OPENCODE_VERSION")"
	if fresh "$dir" "$stamp"; then
		log "opencode $OPENCODE_VERSION: cached in $dir"
		return
	fi
	if ! command -v npm >/dev/null; then
		[[ $(id -u) == 0 ]] || die "opencode: npm is needed to fetch opencode-ai (apt-get install npm)"
		log "opencode: installing npm (Debian)"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
	fi
	local tmp="$CACHE/.tmp-opencode-$OPENCODE_VERSION"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	log "opencode $OPENCODE_VERSION: npm install opencode-ai@$OPENCODE_VERSION"
	# --ignore-scripts: the package's postinstall only links the binary that
	# its optional dependency opencode-linux-<arch> already holds.
	npm install --prefix "$tmp" --no-audit --no-fund --no-save --ignore-scripts \
		"opencode-ai@$OPENCODE_VERSION" >/dev/null
	local arch
	case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "opencode: no binary for $(uname -m)" ;; esac
	local bin="$tmp/node_modules/opencode-linux-$arch/bin/opencode"
	[[ -x $bin ]] || die "opencode: $bin was not installed"
	local got
	got="$("$bin" --version 2>/dev/null)" || die "opencode: $bin --version failed"
	[[ $got == "$OPENCODE_VERSION" ]] || die "opencode: $bin --version says $got, want $OPENCODE_VERSION"
	finish "$tmp" "$dir" "$stamp"
}

main() {
	local apt=1 comps=()
	for a in "$@"; do
		case $a in
		--no-apt) apt=0 ;;
		-h | --help)
			sed -n '2,26p' "${BASH_SOURCE[0]}"
			exit 0
			;;
		*) comps+=("$a") ;;
		esac
	done
	((${#comps[@]})) || comps=(apt kubernetes etcd dex keycloak pause opencode)
	mkdir -p "$CACHE"
	# One installer at a time per cache: concurrent runs (two checkouts, two
	# terminals) would otherwise build the same peer into the same directory.
	exec 9>"$CACHE/.lock"
	flock -n 9 || { log "waiting for another install-peers run ($CACHE/.lock)"; flock 9; }
	local start=$SECONDS c
	for c in "${comps[@]}"; do
		case $c in
		apt) ((apt)) && timed apt install_apt ;;
		kubernetes | etcd | dex | keycloak | pause | opencode | kubeadm | crictl) timed "$c" "install_$c" ;;
		*) die "unknown component $c (want apt kubernetes etcd dex keycloak pause opencode kubeadm crictl)" ;;
		esac
	done
	log "all peers ready in $CACHE ($((SECONDS - start)) s)"
}

main "$@"
