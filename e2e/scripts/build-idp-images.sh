#!/usr/bin/env bash
# build-idp-images.sh — the IdP images the kind backend runs with
# testcontainers-go, built here from the same pinned artifacts as the local
# backend's host processes, with no container registry:
#
#   Dex       fedtoken.local/dex:<version>-<key>       Dex's static binary
#             (e2e/peers/dex) on an empty base, written by release/cmd/ocibuild
#   Keycloak  fedtoken.local/keycloak:<version>-<key>  Debian $DEBIAN_SUITE
#             with openjdk-17-jre-headless (debootstrap from the apt mirror)
#             and the keycloak-quarkus-dist from Maven Central in
#             /opt/keycloak, started once at build time so that Quarkus'
#             one-time augmentation is in the image (a run starts in seconds)
#   mockidp   fedtoken.local/fedtoken-mockidp:e2e      bin/images (make images)
#
# key = hash of the inputs; a second run with the same inputs takes a second.
# The references are written to $CACHE/idp-images/<name>. Hosts that can pull
# may name the official images instead (E2E_KEYCLOAK_IMAGE, E2E_DEX_IMAGE).
set -euo pipefail
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$E2E_DIR/.." && pwd)"
# shellcheck source=../peers/versions.env
source "$E2E_DIR/peers/versions.env"
CACHE="${FEDTOKEN_E2E_CACHE:-/var/cache/fedtoken-e2e}"
GO="${GO:-go}"
KEYCLOAK_PACKAGES=openjdk-17-jre-headless,ca-certificates,procps

log() { printf '[build-idp-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=debian-rootfs.sh
source "$E2E_DIR/scripts/debian-rootfs.sh"

OUT="$CACHE/idp-images"

have() { docker image inspect "$1" >/dev/null 2>&1; }

dex_image() {
	local bin="$CACHE/dex-$DEX_VERSION/bin/dex" key ref
	key=$(hash_of "$bin" "$E2E_DIR/../release/ociimage/build.go")
	ref="fedtoken.local/dex:$DEX_VERSION-${key:0:12}"
	if ! have "$ref"; then
		local tmp
		tmp=$(mktemp -d)
		(cd "$E2E_DIR/../release" && "$GO" run ./cmd/ocibuild -binary "$bin" -ref "$ref" -user 65532:65532 -out "$tmp/dex.tar")
		docker load -q -i "$tmp/dex.tar" >/dev/null
		rm -rf "$tmp"
		prune_images "$ref"
		log "dex image $ref: built"
	fi
	echo "$ref" >"$OUT/dex"
}

keycloak_image() {
	local home="$CACHE/keycloak-$KEYCLOAK_VERSION" tar key ref
	tar=$(rootfs keycloak "$KEYCLOAK_PACKAGES")
	key=$(hash_of "$tar" "$home/.stamp" "${BASH_SOURCE[0]}" "$E2E_DIR/scripts/debian-rootfs.sh")
	ref="fedtoken.local/keycloak:$KEYCLOAK_VERSION-${key:0:12}"
	if ! have "$ref"; then
		local start=$SECONDS tmp="$CACHE/.tmp-keycloak-image" base="fedtoken.local/keycloak-base:$KEYCLOAK_VERSION-${key:0:12}"
		rm -rf "$tmp"
		mkdir -p "$tmp/root/opt/keycloak"
		tar --numeric-owner -C "$tmp/root" -xf "$tar"
		cp -a "$home/." "$tmp/root/opt/keycloak/"
		rm -f "$tmp/root/opt/keycloak/.stamp"
		rm -rf "$tmp/root/opt/keycloak/data"
		tar --numeric-owner -C "$tmp/root" -c . | docker import \
			--change 'ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]' \
			--change 'WORKDIR /opt/keycloak' \
			- "$base" >/dev/null
		rm -rf "$tmp"
		# Quarkus augments the distribution on its first start (minutes);
		# do it once here and keep the result in the image.
		local warm=fedtoken-e2e-keycloak-warm
		docker rm -f "$warm" >/dev/null 2>&1 || true
		log "keycloak: first start in a container (Quarkus augmentation; minutes on a busy machine)"
		docker run -d --name "$warm" --label io.fedtoken.e2e=keycloak-warm "$base" start-dev --db=dev-mem >/dev/null
		local deadline=$((SECONDS + 900))
		until docker logs "$warm" 2>&1 | grep -q "Listening on:"; do
			if ((SECONDS > deadline)) || [[ $(docker inspect -f '{{.State.Running}}' "$warm") != true ]]; then
				docker logs "$warm" 2>&1 | tail -n 30 >&2
				docker rm -f "$warm" >/dev/null
				die "keycloak did not start in its image"
			fi
			sleep 2
		done
		docker stop -t 30 "$warm" >/dev/null
		docker commit --change 'ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]' --change 'CMD []' "$warm" "$ref" >/dev/null
		docker rm -f "$warm" >/dev/null
		docker rmi "$base" >/dev/null
		prune_images "$ref"
		log "keycloak image $ref: built in $((SECONDS - start)) s"
	fi
	echo "$ref" >"$OUT/keycloak"
}

mockidp_image() {
	local tar="${E2E_IMAGES:-$ROOT/bin/images}/fedtoken-mockidp.tar"
	if [[ ! -f $tar ]]; then
		log "mockidp: $tar not built (make images): skipped"
		rm -f "$OUT/mockidp"
		return
	fi
	docker load -q -i "$tar" >/dev/null
	echo "fedtoken.local/fedtoken-mockidp:e2e" >"$OUT/mockidp"
}

main() {
	[[ $(id -u) == 0 ]] || die "run as root (debootstrap, chroot)"
	docker info >/dev/null 2>&1 || die "no Docker daemon answers (e2e/scripts/start-dockerd.sh starts one)"
	local need=()
	[[ -n ${E2E_DEX_IMAGE:-} ]] || need+=(dex)
	[[ -n ${E2E_KEYCLOAK_IMAGE:-} ]] || need+=(keycloak)
	if ((${#need[@]})); then "$E2E_DIR/scripts/install-peers.sh" --no-apt "${need[@]}" >&2; fi
	mkdir -p "$OUT"
	exec 9>"$CACHE/.idp-images.lock"
	flock 9
	if [[ -n ${E2E_DEX_IMAGE:-} ]]; then log "dex: $E2E_DEX_IMAGE (E2E_DEX_IMAGE)"; else dex_image; fi
	if [[ -n ${E2E_KEYCLOAK_IMAGE:-} ]]; then log "keycloak: $E2E_KEYCLOAK_IMAGE (E2E_KEYCLOAK_IMAGE)"; else keycloak_image; fi
	mockidp_image
}

main "$@"
