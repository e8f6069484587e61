#!/usr/bin/env bash
# bench.sh — `make bench`: fedtoken side by side with its peers, one
# markdown table, the load average measured during each row
# (docs/benchmarks.md).
#
#   cached read          core/cache BenchmarkCachedReadParallel at -cpu 1,2,8
#                        vs golang.org/x/oauth2 ReuseTokenSource
#   1000 callers         BenchmarkCallersAcrossExpiry: IdP requests and caller
#                        p50/p99 with and without proactive refresh (Run)
#   warm CLI             BenchmarkExecWarm: `fedtoken token` on a warm cache vs
#                        `kubelogin get-token` (built from the Go proxy, pinned
#                        in tools/bench/kubelogin) vs process start-up
#   proxy                BenchmarkProxyOverhead: throughput, p50/p99 at a fixed
#                        1000 req/s, SSE first event — the sidecar vs a tuned
#                        httputil.ReverseProxy, nginx (Debian) and direct
#   sidecar              start to ready, idle RSS, binary and image sizes
#   fleet                BenchmarkFleet: 10,000 instances, before/after
#
# Benchmarks never fail a test run: this is not part of `make test` or .ci/run,
# and a row whose peer cannot be had says so instead of failing the table.
# Peers are installed on demand: nginx with apt-get (as root), kubelogin built
# once per version into ${FEDTOKEN_E2E_CACHE:-/var/cache/fedtoken-e2e}/kubelogin-<version>/.
#
# Environment: BENCH_ROUNDS (default 5) interleaved rounds of the process and
# proxy benchmarks, medians reported; BENCH_OUT (default _artifacts/bench) for
# the raw outputs and bench.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO="${GO:-go}"
CACHE="${FEDTOKEN_E2E_CACHE:-/var/cache/fedtoken-e2e}"
KUBELOGIN_VERSION="$(awk '$1 == "require" && $2 == "github.com/int128/kubelogin" {print $3; exit}' "$ROOT/tools/bench/kubelogin/go.mod")"
[[ -n $KUBELOGIN_VERSION ]] || { echo "bench: no github.com/int128/kubelogin requirement in tools/bench/kubelogin/go.mod" >&2; exit 1; }
ROUNDS="${BENCH_ROUNDS:-5}"
OUT="${BENCH_OUT:-$ROOT/_artifacts/bench}"
BIN="$ROOT/bin"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

rm -rf "$OUT" && mkdir -p "$OUT"
ROWS="$OUT/rows.tsv"
: >"$ROWS"

# --- load average: sampled every second while the benchmarks run ----------
LOADS="$OUT/loadavg.txt"
(while :; do echo "$(date +%s) $(cut -d' ' -f1 /proc/loadavg)"; sleep 1; done) >"$LOADS" &
SAMPLER=$!
trap 'kill "$SAMPLER" 2>/dev/null || true' EXIT

# load_between T0 T1: "mean (max)" of the 1-min load average sampled in [T0, T1].
load_between() {
	awk -v a="$1" -v b="$2" '$1 >= a && $1 <= b { s += $2; n++; if ($2 > m) m = $2 }
		END { if (n) printf "%.1f (max %.1f)", s / n, m; else print "?" }' "$LOADS"
}

# --- peers ------------------------------------------------------------------
NGINX=""
install_nginx() {
	NGINX="$(command -v nginx || true)"
	[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
	if [[ -z $NGINX && $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		log "nginx: installing Debian's nginx (apt-get)"
		export DEBIAN_FRONTEND=noninteractive
		# nginx-light where the release still has it (smaller), else nginx.
		{ apt-get install -y --no-install-recommends nginx-light || apt-get install -y --no-install-recommends nginx ||
			{ apt-get update && apt-get install -y --no-install-recommends nginx; }; } >"$OUT/apt-nginx.log" 2>&1 || true
		NGINX="$(command -v nginx || true)"
		[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
	fi
	[[ -n $NGINX ]] || log "nginx: not available (needs root and apt-get): its rows are left out"
}

KUBELOGIN=""
install_kubelogin() {
	local dir="$CACHE/kubelogin-$KUBELOGIN_VERSION"
	if [[ ! -x $dir/kubelogin ]]; then
		log "kubelogin $KUBELOGIN_VERSION: building from the Go proxy into $dir (first time: a minute)"
		mkdir -p "$CACHE"
		local tmp
		tmp="$(mktemp -d "$CACHE/.tmp-kubelogin-XXXXXX")"
		cp "$ROOT/tools/bench/kubelogin/go.mod" "$ROOT/tools/bench/kubelogin/go.sum" "$tmp/"
		if (cd "$tmp" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 "$GO" build -trimpath -ldflags '-s -w' \
			-o "$tmp/kubelogin" github.com/int128/kubelogin) >"$OUT/kubelogin-build.log" 2>&1; then
			mkdir -p "$dir.new" && mv "$tmp/kubelogin" "$dir.new/" && rm -rf "$dir" && mv "$dir.new" "$dir"
		else
			log "kubelogin: build failed ($OUT/kubelogin-build.log): its rows are left out"
		fi
		rm -rf "$tmp"
	fi
	[[ -x $dir/kubelogin ]] && KUBELOGIN="$dir/kubelogin"
	return 0
}

# --- parsing `go test -bench` output ------------------------------------------
# metric FILE NAME UNIT: the median of UNIT over the lines of benchmark NAME:
# the full name, or NAME-* for any "-<GOMAXPROCS>" suffix (none when it is 1).
metric() {
	awk -v name="$2" -v unit="$3" '
		function match_name(n) {
			if (substr(name, length(name) - 1) != "-*") return n == name
			p = substr(name, 1, length(name) - 2)
			return n == p || (substr(n, 1, length(p) + 1) == p "-" && substr(n, length(p) + 2) ~ /^[0-9]+$/)
		}
		match_name($1) { for (i = 3; i <= NF; i++) if ($i == unit) print $(i - 1) }' "$1" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# fmtnum V: at most 3 significant digits, thousands kept whole.
fmtnum() { awk -v v="$1" 'BEGIN { if (v == "") print "—"; else if (v >= 1000) printf "%.0f", v; else if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.3g", v }'; }

# ratio BETTER FED PEER: how fedtoken compares, > 1 = fedtoken better.
ratio() {
	awk -v b="$1" -v f="$2" -v p="$3" 'BEGIN {
		if (f == "" || p == "" || f + 0 == 0 || p + 0 == 0) { print "—"; exit }
		r = (b == "lower") ? p / f : f / p; printf "%.2f×", r }'
}

# row GROUP WHAT UNIT BETTER FED PEERNAME PEER LOAD [RATIO]
row() {
	local r="${9:-}"
	[[ -n $r ]] || r="$(ratio "$4" "$5" "$7")"
	local peer="—"
	[[ -n $6 ]] && peer="$6: $(fmtnum "$7")"
	printf '%s\t%s (%s)\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(fmtnum "$5")" "$peer" "$r" "$8" >>"$ROWS"
}

# --- the benchmarks -----------------------------------------------------------
step() { # step NAME: log it and remember when it started
	log "$1"
	T0=$(date +%s)
}

step "build (make build) and peers"
make -C "$ROOT" --no-print-directory build >"$OUT/build.log" 2>&1
install_nginx
install_kubelogin

step "cached read at -cpu 1,2,8 (core/cache)"
f="$OUT/cached-read.txt"
(cd "$ROOT/core" && "$GO" test -run '^$' -bench 'CachedReadParallel$' -cpu 1,2,8 -count 5 ./cache/) >"$f" 2>&1
L="$(load_between "$T0" "$(date +%s)")"
for cpu in 1 2 8; do
	sfx="-$cpu"
	[[ $cpu == 1 ]] && sfx=""
	row "cached read" "-cpu $cpu" "ns/op" lower "$(metric "$f" "BenchmarkCachedReadParallel/cache.Source$sfx" ns/op)" \
		"x/oauth2 ReuseTokenSource" "$(metric "$f" "BenchmarkCachedReadParallel/oauth2.ReuseTokenSource$sfx" ns/op)" "$L"
done

step "1000 callers across expiry (core/cache)"
f="$OUT/callers.txt"
(cd "$ROOT/core" && "$GO" test -run '^$' -bench 'CallersAcrossExpiry' -benchtime 1x -count 3 ./cache/) >"$f" 2>&1
L="$(load_between "$T0" "$(date +%s)")"
sfx="-*" # any GOMAXPROCS
reuse="BenchmarkCallersAcrossExpiry/oauth2.ReuseTokenSource$sfx"
for v in "cache.Source:no proactive refresh" "cache.Source+Run:with Run"; do
	name="BenchmarkCallersAcrossExpiry/${v%%:*}$sfx"
	what="1000 callers, 1 s tokens, 50 ms IdP, 3 s, ${v#*:}"
	row "callers" "$what: IdP requests" "count" lower "$(metric "$f" "$name" idp-requests/op)" "x/oauth2" "$(metric "$f" "$reuse" idp-requests/op)" "$L"
	row "callers" "$what: caller p50" "µs" lower "$(metric "$f" "$name" p50-µs)" "x/oauth2" "$(metric "$f" "$reuse" p50-µs)" "$L"
	row "callers" "$what: caller p99" "µs" lower "$(metric "$f" "$name" p99-µs)" "x/oauth2" "$(metric "$f" "$reuse" p99-µs)" "$L"
done

step "warm CLI processes (fedtoken vs kubelogin), $ROUNDS rounds"
f="$OUT/exec.txt"
(cd "$ROOT/cli" && "$GO" test -c -o "$OUT/cli.test" ./internal/cmd/fedtoken/) >"$OUT/cli-build.log" 2>&1
: >"$f"
for ((i = 0; i < ROUNDS; i++)); do
	(cd "$ROOT/cli/internal/cmd/fedtoken" && FEDTOKEN_BENCH_BIN="$BIN" FEDTOKEN_BENCH_KUBELOGIN="$KUBELOGIN" \
		"$OUT/cli.test" -test.run '^$' -test.bench 'ExecWarm' -test.benchtime 200x) >>"$f" 2>&1
done
L="$(load_between "$T0" "$(date +%s)")"
b="BenchmarkExecWarm"
fedwarm="$(metric "$f" "$b/fedtoken-token-warm$sfx" p50-ms)"
row "CLI" "\`fedtoken token\`, warm cache, process p50" "ms" lower "$fedwarm" "kubelogin get-token, warm" "$(metric "$f" "$b/kubelogin-get-token-warm$sfx" p50-ms)" "$L"
row "CLI" "\`fedtoken token\`, warm cache, process p50" "ms" lower "$fedwarm" "process start (\`fedtoken version\`)" "$(metric "$f" "$b/fedtoken-version$sfx" p50-ms)" "$L"
row "CLI" "process start, p50" "ms" lower "$(metric "$f" "$b/fedtoken-version$sfx" p50-ms)" "kubelogin --version" "$(metric "$f" "$b/kubelogin-version$sfx" p50-ms)" "$L"

step "proxy (sidecar vs tuned ReverseProxy, nginx, direct), $ROUNDS rounds"
f="$OUT/proxy.txt"
(cd "$ROOT/sidecar" && "$GO" test -c -o "$OUT/server.test" ./internal/server/) >"$OUT/server-build.log" 2>&1
: >"$f"
for ((i = 0; i < ROUNDS; i++)); do
	(cd "$ROOT/sidecar/internal/server" && FEDTOKEN_BENCH_NGINX="$NGINX" FEDTOKEN_BENCH_ROUND=$i "$OUT/server.test" -test.run '^$' \
		-test.bench 'ProxyOverhead/.*/throughput' -test.benchtime 10000x) >>"$f" 2>&1
	(cd "$ROOT/sidecar/internal/server" && FEDTOKEN_BENCH_NGINX="$NGINX" FEDTOKEN_BENCH_ROUND=$i "$OUT/server.test" -test.run '^$' \
		-test.bench 'ProxyOverhead/.*/(rate1000|sse)' -test.benchtime 3000x) >>"$f" 2>&1
done
L="$(load_between "$T0" "$(date +%s)")"
b="BenchmarkProxyOverhead"
fed="fedtoken-sidecar"
for peer in "tuned-reverseproxy:tuned ReverseProxy" "nginx:nginx" "direct:direct"; do
	pn="${peer%%:*}" label="${peer#*:}"
	[[ $pn == nginx && -z $NGINX ]] && continue
	row "proxy" "throughput, 8 clients" "req/s" higher "$(metric "$f" "$b/$fed/throughput$sfx" req/s)" "$label" "$(metric "$f" "$b/$pn/throughput$sfx" req/s)" "$L"
	row "proxy" "p50 at 1000 req/s" "µs" lower "$(metric "$f" "$b/$fed/rate1000$sfx" p50-µs)" "$label" "$(metric "$f" "$b/$pn/rate1000$sfx" p50-µs)" "$L"
	row "proxy" "p99 at 1000 req/s" "µs" lower "$(metric "$f" "$b/$fed/rate1000$sfx" p99-µs)" "$label" "$(metric "$f" "$b/$pn/rate1000$sfx" p99-µs)" "$L"
	fs="$(metric "$f" "$b/$fed/sse$sfx" p50-µs)" ps="$(metric "$f" "$b/$pn/sse$sfx" p50-µs)"
	d="$(awk -v a="$fs" -v b="$ps" 'BEGIN { if (a == "" || b == "") print "—"; else printf "Δ %+.3f ms", (a - b) / 1000 }')"
	row "proxy" "SSE time to first event, p50" "µs" lower "$fs" "$label" "$ps" "$L" "$d"
done
row "proxy" "CPU per request (client + proxy + upstream)" "µs" lower "$(metric "$f" "$b/$fed/throughput$sfx" cpu-µs/req)" \
	"tuned ReverseProxy" "$(metric "$f" "$b/tuned-reverseproxy/throughput$sfx" cpu-µs/req)" "$L"

step "sidecar start to ready, idle RSS, sizes"
f="$OUT/sidecar.txt"
(cd "$ROOT/sidecar" && "$GO" test -run '^$' -bench 'IdleRSS' -benchtime 1x -count 5 ./internal/app/) >"$f" 2>&1
L="$(load_between "$T0" "$(date +%s)")"
row "sidecar" "start to /readyz 200 (one token from a loopback IdP)" "ms" lower "$(metric "$f" "BenchmarkIdleRSS$sfx" start-to-ready-ms)" "" "" "$L" "—"
row "sidecar" "idle RSS with a token" "MiB" lower "$(metric "$f" "BenchmarkIdleRSS$sfx" RSS-MiB)" "" "" "$L" "—"
mib() { [[ -f $1 ]] && awk -v s="$(stat -c %s "$1")" 'BEGIN { printf "%.2f", s / 1048576 }'; }
row "sizes" "\`fedtoken\` binary (static, stripped)" "MiB" lower "$(mib "$BIN/fedtoken")" "kubelogin" "$([[ -n $KUBELOGIN ]] && mib "$KUBELOGIN")" "$L"
row "sizes" "\`fedtoken-sidecar\` binary (static, stripped)" "MiB" lower "$(mib "$BIN/fedtoken-sidecar")" "" "" "$L" "—"
if make -C "$ROOT" --no-print-directory images >"$OUT/images.log" 2>&1; then
	for img in "$BIN"/images/*.tar; do
		[[ -f $img ]] || continue
		row "sizes" "image $(basename "$img" .tar) (tarball)" "MiB" lower "$(mib "$img")" "" "" "$L" "—"
	done
else
	log "images: make images failed ($OUT/images.log): their rows are left out"
fi

step "fleet: 10,000 instances (core/cache BenchmarkFleet)"
f="$OUT/fleet.txt"
(cd "$ROOT/core" && "$GO" test -run '^$' -bench 'Fleet' -benchtime 1x ./cache/) >"$f" 2>&1
L="$(load_between "$T0" "$(date +%s)")"
for life in 30s 1m0s 5m0s 1h0m0s; do
	n="BenchmarkFleet/life=$life"
	row "fleet" "$life tokens: steady peak/mean" "ratio" lower "$(metric "$f" "$n/after$sfx" steady-peak/mean)" "before" "$(metric "$f" "$n/before$sfx" steady-peak/mean)" "$L"
	row "fleet" "$life tokens: first lifetime peak/mean" "ratio" lower "$(metric "$f" "$n/after$sfx" first-peak/mean)" "before" "$(metric "$f" "$n/before$sfx" first-peak/mean)" "$L"
	row "fleet" "$life tokens: IdP requests per pod per lifetime" "count" lower "$(metric "$f" "$n/after$sfx" req/pod/lifetime)" "before" "$(metric "$f" "$n/before$sfx" req/pod/lifetime)" "$L"
	row "fleet" "$life tokens: start-up peak, --start-delay 10s" "req/s" lower "$(metric "$f" "$n/after-start-delay-10s$sfx" startup-peak-req/s)" "before" "$(metric "$f" "$n/before$sfx" startup-peak-req/s)" "$L"
done

# --- the table ----------------------------------------------------------------
{
	echo "fedtoken \`make bench\`, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $("$GO" env GOVERSION) $(uname -sm)"
	echo "peers: x/oauth2 $(cd "$ROOT/core" && "$GO" list -m -f '{{.Version}}' golang.org/x/oauth2), kubelogin $([[ -n $KUBELOGIN ]] && echo "$KUBELOGIN_VERSION" || echo 'not available'), nginx $([[ -n $NGINX ]] && "$NGINX" -v 2>&1 | sed 's/.*nginx\///' || echo 'not available')"
	echo
	echo "ratio: fedtoken relative to the peer, > 1 = fedtoken better (faster, smaller, fewer requests); load: 1-min load average during the row's benchmark, mean (max)"
	echo
	echo "| group | measurement | fedtoken | peer | ratio | load |"
	echo "|---|---|---:|---|---:|---|"
	awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$ROWS"
} | tee "$OUT/bench.md"
log "raw outputs and bench.md in $OUT"
