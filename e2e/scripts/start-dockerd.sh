#!/usr/bin/env bash
# start-dockerd.sh — make sure a Docker daemon answers, for the kind backend.
#
# A daemon that already answers (`docker info`) is used as it is: this is
# the case on laptops and CI runners. Only when none answers and we are root
# on Linux does this script start one itself (a workaround for VMs without a
# service manager, such as the project's CI machines, not a requirement):
#   - installs Debian's docker.io with apt-get when dockerd is missing;
#   - when this machine's capability bounding set lacks CAP_SYS_RESOURCE
#     (restricted VMs: `docker run --privileged` fails with "unable to apply
#     caps"), registers e2e/cmd/runcwrap as dockerd's default runtime: a
#     wrapper around runc that drops that one capability before runc runs;
#   - runs dockerd in the background (pid file /run/fedtoken-e2e-dockerd.pid,
#     log /var/log/fedtoken-e2e-dockerd.log) and waits until it answers.
# The daemon keeps running after the tests (later runs reuse it and its
# image cache); stop it with: kill "$(cat /run/fedtoken-e2e-dockerd.pid)".
#
# Exit 0: a daemon answers. Exit 3: none answers and this script cannot
# start one (not root, not Linux); the caller then uses the local backend.
set -euo pipefail
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FEDTOKEN_E2E_CACHE:-/var/cache/fedtoken-e2e}"
GO="${GO:-go}"
PIDFILE=/run/fedtoken-e2e-dockerd.pid
LOG=/var/log/fedtoken-e2e-dockerd.log

log() { printf '[start-dockerd %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

answers() { command -v docker >/dev/null && timeout 20 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

if answers; then
	log "docker daemon answers ($(docker info --format '{{.ServerVersion}} runtime={{.DefaultRuntime}}'))"
	exit 0
fi
if [[ $(uname -s) != Linux || $(id -u) != 0 ]]; then
	log "no docker daemon answers and this is not root on Linux: not starting one"
	exit 3
fi

exec 8>/run/fedtoken-e2e-dockerd.lock
flock 8
if answers; then exit 0; fi

if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
	log "installing docker.io (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

# A daemon this script started earlier but that died leaves its pid file.
if [[ -f $PIDFILE ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	rm -f "$PIDFILE" /var/run/docker.pid
fi

dir="$CACHE/dockerd"
mkdir -p "$dir"
runtime_json=""
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if (((0x$capbnd >> 24) & 1)); then
	log "capability bounding set has CAP_SYS_RESOURCE: plain runc"
else
	log "capability bounding set lacks CAP_SYS_RESOURCE: dockerd gets the runcwrap runtime (drops it before runc)"
	(cd "$E2E_DIR" && CGO_ENABLED=0 "$GO" build -trimpath -o "$dir/runcwrap.new" ./cmd/runcwrap)
	mv "$dir/runcwrap.new" "$dir/runcwrap"
	runtime_json=$(printf '"runtimes": {"fedtoken-runcwrap": {"path": "%s"}}, "default-runtime": "fedtoken-runcwrap",' "$dir/runcwrap")
fi
cat >"$dir/daemon.json" <<JSON
{
  $runtime_json
  "pidfile": "$PIDFILE",
  "log-level": "warn"
}
JSON
log "starting dockerd (log $LOG)"
# dockerd outlives this script: it must not inherit the caller's open
# descriptors (a flock(1) lock held around `make e2e` would be held by
# dockerd, and so by nobody's run, until dockerd stops).
(
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		if ((fd > 2)); then eval "exec $fd>&-"; fi
	done
	exec setsid nohup dockerd --config-file "$dir/daemon.json" >>"$LOG" 2>&1 </dev/null
) &
for _ in $(seq 1 120); do
	if answers; then
		log "dockerd up ($(docker info --format '{{.ServerVersion}} runtime={{.DefaultRuntime}}'))"
		exit 0
	fi
	if [[ -f $PIDFILE ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then break; fi
	sleep 0.5
done
log "dockerd did not come up; last lines of $LOG:"
tail -n 20 "$LOG" >&2
exit 1
