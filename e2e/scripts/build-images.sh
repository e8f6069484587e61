#!/usr/bin/env bash
# build-images.sh — pack fedtoken's static binaries (bin/<name>, from
# `make build`) into image tarballs without a container daemon:
#   bin/images/<name>.tar   tagged fedtoken.local/<name>:e2e
# Empty base, the binary at /<name> as entrypoint, user 65532:65532.
# The e2e harness loads them into the node's containerd
# (ctr -n k8s.io images import) or into kind. Absent binaries are skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GO="${GO:-go}"
OUT="${E2E_IMAGES:-$ROOT/bin/images}"
mkdir -p "$OUT"
(cd "$ROOT/e2e" && "$GO" build -o "$ROOT/bin/ocibuild" ./cmd/ocibuild)
for name in fedtoken fedtoken-sidecar fedtoken-mockidp; do
	bin="$ROOT/bin/$name"
	if [[ ! -x $bin ]]; then
		echo "images: skip $name ($bin not built: its cmd/$name does not exist yet)" >&2
		rm -f "$OUT/$name.tar"
		continue
	fi
	"$ROOT/bin/ocibuild" -binary "$bin" -ref "fedtoken.local/$name:e2e" -user 65532:65532 -out "$OUT/$name.tar"
	echo "images: $OUT/$name.tar (fedtoken.local/$name:e2e)" >&2
done
