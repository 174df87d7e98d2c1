#!/bin/sh
# bench/soak.sh: a soak test. `skarbnica serve --public` on 127.0.0.1
# answers three wrk loads at once (the start page, searches, threads;
# bench/wrk/skarbnica.lua) for SOAK_SECONDS while `skarbnica ingest` feeds
# the same store chunk after chunk, and the server's memory is sampled.
#
#   make soak                         (or: sh bench/soak.sh)
#
# Environment (defaults in brackets):
#   SOAK_SECONDS [300]   length of the load
#   SOAK_MBOX [../shared/corpora/lore-linux-btrfs/btrfs-part01.mbox.xz]
#                        mail to ingest (.mbox or .mbox.xz)
#   SOAK_INITIAL [2000]  messages stored before the server starts
#   SOAK_CHUNK [500]     messages per ingest run during the load; the runs
#                        follow each other until the load ends (then they
#                        start again from the first chunk: each mbox
#                        resumes where it stopped, so those runs start the
#                        workers and find nothing new)
#   SOAK_CONNECTIONS [4] wrk connections per page kind
#   SOAK_SAMPLE [5]      seconds between memory samples
#   SOAK_PORT [18474]    SKARBNICA_BIN [./skarbnica]
#   SOAK_OUT             keep the samples, logs and store here (else a
#                        temporary directory, removed at the end)
#
# Fails (exit 1) on any socket error or timeout (wrk, 10 s), any answer
# other than 2xx/3xx, an ingest run that fails, a server that dies, or
# memory that keeps growing: the largest anonymous RSS (RssAnon, the heap:
# the store's mapped files grow with the store and are not a leak) in the
# last third of the run must stay within 10 % (and at least 8 MB) of the
# largest in the first third. Prints req/s and p50/p99 per page kind and
# the RSS curve (VmRSS, RssAnon, VmHWM every 30 s).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

secs=${SOAK_SECONDS:-300}
mbox=${SOAK_MBOX:-$root/../shared/corpora/lore-linux-btrfs/btrfs-part01.mbox.xz}
initial=${SOAK_INITIAL:-2000}
chunk=${SOAK_CHUNK:-500}
conns=${SOAK_CONNECTIONS:-4}
sample=${SOAK_SAMPLE:-5}
port=${SOAK_PORT:-18474}
bin=${SKARBNICA_BIN:-./skarbnica}

for tool in wrk curl; do
	command -v $tool >/dev/null 2>&1 ||
		{ echo "soak: SKIP: $tool not installed"; exit 0; }
done
[ -x "$bin" ] || { echo "soak: $bin not found: run make first" >&2; exit 1; }
[ -f "$mbox" ] || { echo "soak: SKIP: $mbox not found"; exit 0; }

if [ -n "${SOAK_OUT:-}" ]; then
	out=$SOAK_OUT
	mkdir -p "$out"
	keep=1
else
	out=$(mktemp -d "${TMPDIR:-/tmp}/skarbnica-soak.XXXXXX")
	keep=0
fi
data=$out/data
pid=
fpid=
spid=
wpids=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for p in $wpids $fpid $spid $pid; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ "$keep" -eq 1 ] || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The mail, cut into chunks of whole messages (split at "From " lines).
case "$mbox" in
*.xz) xz -dc "$mbox" >"$out/all.mbox" ;;
*) cp "$mbox" "$out/all.mbox" ;;
esac
mkdir -p "$out/chunks"
awk -v dir="$out/chunks" -v first="$initial" -v size="$chunk" '
	/^From / {
		n++
		if (n <= first) f = dir "/000-initial.mbox"
		else f = sprintf("%s/%06d.mbox", dir, int((n - first - 1) / size) + 1)
	}
	{ print > f }' "$out/all.mbox"
rm -f "$out/all.mbox"
nchunks=$(($(find "$out/chunks" -name '*.mbox' | wc -l) - 1))

"$bin" -d "$data" init >"$out/init.log" 2>&1
"$bin" -d "$data" ingest --quiet --mbox "$out/chunks/000-initial.mbox" \
	>"$out/ingest-initial.log" 2>&1
start_msgs=$("$bin" -d "$data" stats --json |
	sed -n 's/.*"messages": *\([0-9]*\).*/\1/p')

"$bin" -d "$data" serve --public --listen "127.0.0.1:$port" \
	>"$out/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
i=0
until curl -fs -o /dev/null "$base/healthz"; do
	kill -0 "$pid" 2>/dev/null ||
		{ cat "$out/server.log" >&2; echo "soak: FAIL: server did not start"; exit 1; }
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "soak: FAIL: no /healthz at $base"; exit 1; }
	sleep 0.2
done

# Thread ids the public site shows, probed once (as bench/wrk/run.sh).
threads=$("$bin" -d "$data" stats --json |
	sed -n 's/.*"threads": *\([0-9]*\).*/\1/p')
step=$(((threads + 499) / 500))
[ "$step" -ge 1 ] || step=1
# shellcheck disable=SC2046
curl -s -o /dev/null -w '%{http_code} %{url_effective}\n' \
	$(seq 1 "$step" "$threads" | sed "s|^|$base/watek/|") |
	sed -n 's|^200 .*/watek/\([0-9]*\)$|\1|p' >"$out/thread-ids"
export WRK_THREAD_IDS="$out/thread-ids"
export WRK_QUERIES="${WRK_QUERIES:-$root/../shared/bench/queries.tsv}"
export WRK_QUERIES_PL="${WRK_QUERIES_PL:-$here/wrk/queries-pl.txt}"
echo "soak: $start_msgs messages, $threads threads at the start;" \
	"$(wc -l <"$out/thread-ids") thread pages probed; $nchunks chunks of" \
	"$chunk to ingest; ${secs} s, $conns connections per page kind"

# The feeder: one ingest run per chunk, in order, then again from the
# first (duplicates) until the load ends.
(
	n=0
	ipid=
	# SIGTERM at the end: the ingest run going on stops cleanly.
	trap '[ -z "$ipid" ] || kill -TERM "$ipid" 2>/dev/null; wait; exit 0' TERM
	while :; do
		for f in "$out"/chunks/0*.mbox; do
			case "$f" in *000-initial.mbox) continue ;; esac
			n=$((n + 1))
			"$bin" -d "$data" ingest --mbox "$f" >>"$out/ingest.log" 2>&1 &
			ipid=$!
			if ! wait "$ipid"; then
				echo "run $n ($f) FAILED" >>"$out/ingest-failures"
			fi
			ipid=
			echo "$n" >"$out/ingest-runs"
		done
	done
) &
fpid=$!

# The sampler: seconds, VmRSS, RssAnon, VmHWM (kB).
(
	t0=$(date +%s)
	while kill -0 "$pid" 2>/dev/null; do
		awk -v t=$(($(date +%s) - t0)) '
			/^VmRSS/ {r = $2} /^RssAnon/ {a = $2} /^VmHWM/ {h = $2}
			END {print t, r, a, h}' "/proc/$pid/status" >>"$out/rss" ||
			true
		sleep "$sample"
	done
) &
spid=$!

for mode in start search thread; do
	WRK_MODE=$mode wrk -t 1 -c "$conns" -d "${secs}s" --timeout 10s \
		--latency -s "$here/wrk/skarbnica.lua" "$base" \
		>"$out/wrk-$mode.out" 2>&1 &
	wpids="$wpids $!"
done
# shellcheck disable=SC2086
wait $wpids
wpids=
kill -TERM "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
fpid=
alive=1
kill -0 "$pid" 2>/dev/null || alive=0
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
spid=
end_msgs=$("$bin" -d "$data" stats --json |
	sed -n 's/.*"messages": *\([0-9]*\).*/\1/p')

fail=0
echo
echo "| page | requests | req/s | p50 ms | p99 ms | max ms | socket errors | non-2xx/3xx |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for mode in start search thread; do
	line=$(grep '^wrkstat' "$out/wrk-$mode.out" || true)
	if [ -z "$line" ]; then
		echo "soak: FAIL: wrk $mode gave no result:"
		tail -5 "$out/wrk-$mode.out"
		fail=1
		continue
	fi
	get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
	echo "| $mode | $(get requests) | $(get rps) | $(get p50_ms) | $(get p99_ms) | $(get max_ms) | $(get socket_errors) | $(get non2xx3xx) |"
	[ "$(get socket_errors)" = 0 ] && [ "$(get non2xx3xx)" = 0 ] || fail=1
done

echo
echo "ingest during the load: $(cat "$out/ingest-runs" 2>/dev/null || echo 0) runs;" \
	"store $start_msgs -> $end_msgs messages"
if [ -s "$out/ingest-failures" ]; then
	echo "soak: FAIL: ingest runs failed:"
	cat "$out/ingest-failures"
	tail -5 "$out/ingest.log"
	fail=1
fi
if [ "$alive" -eq 0 ]; then
	echo "soak: FAIL: the server died:"
	tail -5 "$out/server.log"
	fail=1
fi

# The RSS curve (MB; the largest sample of each 30 s) and the verdict.
echo
echo "| s | VmRSS MB | RssAnon MB | VmHWM MB |"
echo "|---:|---:|---:|---:|"
awk '{ b = int($1 / 30) * 30
       if (!(b in r) || $2 > r[b]) r[b] = $2
       if (!(b in a) || $3 > a[b]) a[b] = $3
       h[b] = $4; if (b > last) last = b }
     END { for (t = 0; t <= last; t += 30) if (t in r)
             printf "| %d | %.0f | %.0f | %.0f |\n", t, r[t]/1024, a[t]/1024, h[t]/1024 }' \
	"$out/rss"
verdict=$(awk -v T="$secs" '
	$1 <= T / 3 && $3 > first { first = $3 }
	$1 >= 2 * T / 3 && $3 > last { last = $3 }
	END { lim = first * 1.10; if (lim < first + 8192) lim = first + 8192
	      printf "%s %.0f %.0f %.0f", (last <= lim ? "ok" : "growing"),
	             first / 1024, last / 1024, lim / 1024 }' "$out/rss")
# shellcheck disable=SC2086 # four words
set -- $verdict
echo
echo "heap (RssAnon): first third max $2 MB, last third max $3 MB (limit $4 MB): $1"
[ "$1" = ok ] || fail=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$keep" -eq 0 ] || echo "soak: samples, logs and store kept in $out"
if [ "$fail" -ne 0 ]; then
	echo "soak: FAIL"
	exit 1
fi
echo "soak: ok"
