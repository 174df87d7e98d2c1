#!/bin/sh
# bench/wrk/run.sh: HTTP load on the web front end with wrk, on 127.0.0.1.
#
#   sh bench/wrk/run.sh                      the demo corpus (loaded into a
#                                            temporary directory)
#   sh bench/wrk/run.sh -d /tmp/b50          an existing store
#   sh bench/wrk/run.sh -d /tmp/b50 --ingest more.mbox
#                                            search load while `ingest` runs
#
# Options: --duration 30s --connections 32 --threads 2 --port 18473
#          --timeout 10s (wrk's per-request timeout: slower answers count
#          as errors and leave the latency figures)
#          --modes "start search thread"  --bin ./skarbnica  --label NAME
#
# The server runs `serve --public` (no login needed) with its default two
# worker threads. Each mode is one wrk run (skarbnica.lua cycles over the
# queries of ../shared/bench/queries.tsv plus bench/wrk/queries-pl.txt, or
# over /watek/1..N). Prints wrk's own report and one Markdown table row per
# run: requests/s, p50/p90/p99/max latency, errors, and the server's RSS
# before and after. Needs wrk and curl (Debian packages).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

data=
duration=30s
conns=32
wthreads=2
port=18473
modes="start search thread"
bin=${SKARBNICA_BIN:-./skarbnica}
ingest=
label=
wtimeout=10s
while [ $# -gt 0 ]; do
	case "$1" in
	-d) data=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--threads) wthreads=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--modes) modes=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--ingest) ingest=$2; shift 2 ;;
	--label) label=$2; shift 2 ;;
	--timeout) wtimeout=$2; shift 2 ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

for tool in wrk curl; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not installed (apt-get install $tool)"
		exit 0
	fi
done
[ -x "$bin" ] || { echo "run.sh: $bin not found: run make first" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/skarbnica-wrk.XXXXXX")
pid=
ipid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$ipid" ] && kill "$ipid" 2>/dev/null && wait "$ipid" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

base="http://127.0.0.1:$port"
wait_healthy() {
	i=0
	while [ $i -lt 600 ]; do
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
		curl -fs -o /dev/null "$base/healthz" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "run.sh: no /healthz at $base" >&2
	exit 1
}

if [ -z "$data" ]; then
	# The demo corpus: `demo` loads it, then it is served in public mode.
	data=$tmp/data
	"$bin" -d "$data" demo --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
	pid=$!
	wait_healthy
	kill "$pid"; wait "$pid" 2>/dev/null || true
	pid=
	label=${label:-demo}
fi
label=${label:-$(basename "$data")}

threads=$("$bin" -d "$data" stats --json | sed -n 's/.*"threads": *\([0-9]*\).*/\1/p')
messages=$("$bin" -d "$data" stats --json | sed -n 's/.*"messages": *\([0-9]*\).*/\1/p')
echo "wrk: $label: $messages messages, $threads threads; $conns connections, $wthreads wrk threads, $duration per run"

"$bin" -d "$data" serve --public --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
pid=$!
wait_healthy

# resident set: total (file-backed pages of the mapped store and index
# count in it) and its anonymous part (heap: what the server allocated)
rss() { awk '/^VmRSS/ {t = int($2/1024)} /^RssAnon/ {a = int($2/1024)}
	END {print t " MB (anon " a ")"}' "/proc/$pid/status"; }
# The server's CPU time so far (user + system), in clock ticks: the CPU
# cost per request does not depend on what else runs on the machine, so
# it gives the rate two idle cores would reach (2 s of CPU a second /
# CPU per request), which req/s on a busy machine cannot.
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tck=$(getconf CLK_TCK)
hwm() { awk '/^VmHWM/ {print int($2/1024) " MB"}' "/proc/$pid/status"; }

export WRK_THREADS="$threads"
# Thread ids that the public site shows (held mail is hidden: 404): at
# most $WRK_PROBE (default 500) ids spread evenly over 1..N, probed once
# over one connection.
probe=${WRK_PROBE:-500}
step=$(( (threads + probe - 1) / probe ))
[ "$step" -ge 1 ] || step=1
urls=$(seq 1 "$step" "$threads" | sed "s|^|$base/watek/|")
# shellcheck disable=SC2086
curl -s -o /dev/null -w '%{http_code} %{url_effective}\n' $urls |
	sed -n 's|^200 .*/watek/\([0-9]*\)$|\1|p' >"$tmp/thread-ids"
export WRK_THREAD_IDS="$tmp/thread-ids"
echo "wrk: $(wc -l <"$tmp/thread-ids") thread ids answer 200 (of $(echo "$urls" | wc -l) probed)"
export WRK_QUERIES="${WRK_QUERIES:-$root/../shared/bench/queries.tsv}"
export WRK_QUERIES_PL="${WRK_QUERIES_PL:-$here/queries-pl.txt}"
[ -f "$WRK_QUERIES" ] || echo "wrk: $WRK_QUERIES not found: Polish queries only"

# Warm up (caches, lazily opened read handles): 5 s of every page kind.
WRK_MODE=mix wrk -t "$wthreads" -c "$conns" -d 5s -s "$here/skarbnica.lua" "$base" >/dev/null

rows=
for mode in $modes; do
	rss0=$(rss)
	cpu0=$(cpu)
	note=
	if [ -n "$ingest" ] && [ -z "$ipid" ]; then
		# one ingest, started before the first run, going on through the
		# runs until it ends
		"$bin" -d "$data" ingest --mbox "$ingest" >"$tmp/ingest.log" 2>&1 &
		ipid=$!
		istart=$(date +%s)
		sleep 2
	fi
	WRK_MODE=$mode wrk -t "$wthreads" -c "$conns" -d "$duration" \
		--timeout "$wtimeout" --latency \
		-s "$here/skarbnica.lua" "$base" | tee "$tmp/wrk.out"
	if [ -n "$ipid" ]; then
		if kill -0 "$ipid" 2>/dev/null; then
			note="ingest running throughout ($(grep -o '[0-9]* stored' "$tmp/ingest.log" | tail -n 1) so far)"
		else
			note="ingest ended after $(($(date +%s) - istart)) s"
		fi
	fi
	cpu1=$(cpu)
	line=$(grep '^wrkstat' "$tmp/wrk.out")
	get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
	# server CPU ms per request (while ingest runs, the ingest process is
	# not counted), and the rate it allows on 2 cores
	cpr=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$tck" -v n="$(get requests)" \
		'BEGIN { if (n > 0) printf "%.2f", (b - a) * 1000 / t / n; else print "-" }')
	cap=$(awk -v c="$cpr" 'BEGIN { if (c > 0) printf "%d", 2000 / c; else print "-" }')
	row="| $label | $mode | $(get rps) | $(get p50_ms) | $(get p90_ms) | $(get p99_ms) | $(get max_ms) | $(get socket_errors)/$(get non2xx3xx) | $cpr | $cap | $rss0 → $(rss) | $(cut -d' ' -f1 /proc/loadavg) | $note |"
	rows="$rows$row
"
done

if [ -n "$ipid" ]; then
	if kill -0 "$ipid" 2>/dev/null; then
		echo "wrk: waiting for the ingest to end"
	fi
	if wait "$ipid"; then
		echo "wrk: ingest: $(tail -n 1 "$tmp/ingest.log") (ended after $(($(date +%s) - istart)) s)"
	else
		echo "wrk: ingest FAILED: $(tail -n 3 "$tmp/ingest.log")"
	fi
	ipid=
fi
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); server peak RSS (VmHWM): $(hwm)"
echo "| corpus | page | req/s | p50 ms | p90 ms | p99 ms | max ms | errors (socket/HTTP) | server CPU ms/req | req/s on 2 idle cores (est.) | server RSS before → after | load avg after | note |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"
printf '%s' "$rows"
