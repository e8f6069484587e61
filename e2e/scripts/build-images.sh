#!/usr/bin/env bash
# build-images.sh — pack fedtoken's static binaries (bin/<name>, from
# `make build`) into image tarballs without a container daemon:
#   bin/images/<name>.tar   tagged fedtoken.local/<name>:e2e
# The same builder as the release images (release/ociimage, via
# `fedtoken-release images`): the binary at /<name> as entrypoint, the CA
# bundle, user 65532:65532, OCI labels, reproducible. The e2e harness loads
# them into the node's containerd (ctr -n k8s.io images import) or into kind.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GO="${GO:-go}"
OUT="${E2E_IMAGES:-$ROOT/bin/images}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
mkdir -p "$OUT"
(cd "$ROOT/release" && "$GO" build -o "$ROOT/.tools/fedtoken-release" ./cmd/fedtoken-release)
"$ROOT/.tools/fedtoken-release" images -bin "$ROOT/bin" -out "$OUT" -ref 'fedtoken.local/%s:e2e' \
	-ca-bundle "$CA_BUNDLE" -version "${VERSION:-devel}" -commit "${COMMIT:-}"
