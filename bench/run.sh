#!/usr/bin/env bash
# bench/run.sh: Skarbnica and its peers side by side, in one run, on the same
# mail (issue 9). `make bench` runs it; see bench/README.md.
#
# For each size of BENCH_SIZES it measures, for Skarbnica and each peer:
#   ingest     from scratch (init included), /usr/bin/time -v: median wall,
#              messages/second, peak RSS; index size on disk
#   query      ../shared/bench/queries.tsv (ours: bench/queries-skarbnica.tsv)
#              as one process per query (hyperfine -N, process start
#              included): per-query p50/p99 and the pooled p50/p99
#   in-process the same queries through sk_search() (bench/inproc.c, the web's
#              path, index opened once) vs libnotmuch (lib/inproc_notmuch.py)
#   web        requests/second with wrk (bench/wrk/ when present)
# then Polish queries on the demo corpus (Skarbnica only), prints the table
# of ratios and writes docs/performance.md (BENCH_DOCS=- to skip).
#
# Environment (defaults):
#   BENCH_WORK=/tmp/skarbnica-bench   sets, databases, results
#   BENCH_SIZES="10k 100k"            sets to build (prepare.sh) and measure
#   BENCH_PEERS="notmuch mu"          any of notmuch mu pi-import
#   RUNS_SMALL=3 RUNS_BIG=1           ingest runs at 10k / above
#   QRUNS=20                          runs per query (after 2 warm-ups)
#   BENCH_SETUP=auto                  1: always run setup.sh; 0: never
#   BENCH_REUSE=0                     1: keep a size's databases from an
#                                     earlier run (skip its ingests)
#   BENCH_LABEL=""                    a line for docs/performance.md
#                                     (e.g. "smoke run on a busy machine")
#   BENCH_DOCS=docs/performance.md    where the report goes; - for none
#   BENCH_STEPS="ingest query inproc web demo"  a subset (with BENCH_REUSE=1)
#   WRK_SECONDS=30 WRK_CONNECTIONS=32 per wrk run (bench/wrk/run.sh)
#   SKARBNICA, INPROC                 the binaries (make bench sets them)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The peers' scripts sit next to the repository: ../shared/bench.
shared=$(cd "$root/../shared/bench" 2>/dev/null && pwd) || {
	echo "bench: no ../shared/bench next to the repository" >&2; exit 1; }
export BENCH_WORK=${BENCH_WORK:-/tmp/skarbnica-bench}
work=$BENCH_WORK
sizes=${BENCH_SIZES:-"10k 100k"}
peers=${BENCH_PEERS:-"notmuch mu"}
runs_small=${RUNS_SMALL:-3}; runs_big=${RUNS_BIG:-1}; qruns=${QRUNS:-20}
SK=${SKARBNICA:-$root/skarbnica}
INPROC=${INPROC:-$root/build/dev/bench/inproc}
res=$work/results
mkdir -p "$res/json" "$work/db"
log() { echo "bench: $*" >&2; }
# hyperfine's warnings (outliers, caches) go to a log, not the terminal.
hf() {
	hyperfine "$@" 2>>"$res/hyperfine-warnings.log" ||
		echo "bench: hyperfine failed (see $res/hyperfine-warnings.log): ${*: -1}" >&2
}
has() { command -v "$1" >/dev/null 2>&1; }

# ---- tools and sets -------------------------------------------------------
need=(hyperfine /usr/bin/time python3)
for p in $peers; do
	case $p in notmuch) need+=(notmuch) ;; mu) need+=(mu) ;;
	pi-*) need+=(public-inbox-init) ;; esac
done
missing=0
for t in "${need[@]}"; do has "$t" || missing=1; done
case ${BENCH_SETUP:-auto} in
1) "$shared/setup.sh" ;;
auto) [ $missing = 0 ] || "$shared/setup.sh" ;;
esac
SIZES="$sizes" "$shared/prepare.sh"

if [ ! -x "$SK" ] || [ ! -x "$INPROC" ]; then
	log "building skarbnica and bench/inproc"
	mk=(make -C "$root")
	grep -q 'bench/module.mk' "$root/Makefile" ||
		mk=(make -C "$root" -f Makefile -f bench/module.mk)
	"${mk[@]}" skarbnica build/dev/bench/inproc >&2
fi

# Private copies: a rebuild in the tree (others' `make`) must not swap or
# remove a binary in the middle of the run.
mkdir -p "$work/bin"
cp -f "$SK" "$work/bin/skarbnica.tmp" && mv -f "$work/bin/skarbnica.tmp" "$work/bin/skarbnica"
cp -f "$INPROC" "$work/bin/inproc.tmp" && mv -f "$work/bin/inproc.tmp" "$work/bin/inproc"
SK=$work/bin/skarbnica INPROC=$work/bin/inproc
# The peers' Python bindings are Debian's (python3-notmuch2): use its python.
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

# ---- the machine ------------------------------------------------------------
{
	echo "date	$(date -u +%Y-%m-%dT%H:%MZ)"
	echo "cpu	$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
	echo "cores	$(nproc)"
	echo "memory	$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "os	$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
	echo "disk	$(df -h "$work" | awk 'NR==2{print $1" ("$2")"}')"
	echo "load	$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
	echo "skarbnica	$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ' + uncommitted changes')"
	echo "xapian	$(dpkg-query -W -f='${Version}' libxapian30 2>/dev/null || echo '?')"
	echo "sqlite	$(dpkg-query -W -f='${Version}' libsqlite3-0 2>/dev/null || echo '?')"
	has notmuch && echo "notmuch	$(notmuch --version | awk '{print $2}')"
	has mu && echo "mu	$(mu --version | awk 'NR==1{print $NF}')"
	has hyperfine && echo "hyperfine	$(hyperfine --version | awk '{print $2}')"
	has wrk && echo "wrk	$(wrk -v 2>&1 | awk 'NR==1{print $2}')"
} > "$res/machine.tsv"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }

# ---- Skarbnica ingest: same shape as ../shared/bench/index.sh's lines -------
# Skarbnica reads the set's mbox (one file, the format lists archive in);
# the peers read its Maildir (what they index). Same messages.
sk_ingest() { # size runs
	local size=$1 runs=$2 set="$work/btrfs-$1" db="$work/db/skarbnica-$1"
	local nmsg walls=() rss=() tf w m
	nmsg=$(awk '$1=="messages"{print $2}' "$set/manifest.txt" 2>/dev/null)
	[ -n "$nmsg" ] || nmsg=$(awk -F= '/^messages=/{print $2}' RS=' ' "$set/manifest.txt")
	for r in $(seq 1 "$runs"); do
		rm -rf "$db"
		tf=$(mktemp)
		/usr/bin/time -v -o "$tf" sh -c '"$1" -d "$2" init >/dev/null &&
			"$1" -d "$2" ingest --mbox "$3" >/dev/null 2>&1' sh \
			"$SK" "$db" "$set/all.mbox"
		w=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0;
			for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")
		m=$(awk -F': ' '/Maximum resident set size/{print $2}' "$tf")
		rm -f "$tf"
		log "skarbnica $size run $r: wall ${w}s peak-rss ${m}KiB"
		walls+=("$w"); rss+=("$m")
	done
	local mw mr bytes store xap
	mw=$(median "${walls[@]}"); mr=$(median "${rss[@]}")
	bytes=$(du -sb "$db" | awk '{print $1}')
	xap=$(du -sb "$db/xapian" | awk '{print $1}')
	store=$((bytes - xap))
	[ -f "$res/index.tsv" ] || printf 'peer\tsize\tmessages\truns\tmedian_wall_s\tmsgs_per_s\tdb_MiB\tpeak_rss_MiB\n' > "$res/index.tsv"
	printf 'skarbnica\t%s\t%d\t%d\t%.2f\t%.0f\t%.1f\t%.1f\n' "$size" "$nmsg" \
		"$runs" "$mw" "$(echo "$nmsg / $mw" | bc -l)" \
		"$(echo "$bytes / 1048576" | bc -l)" "$(echo "$mr / 1024" | bc -l)" \
		>> "$res/index.tsv"
	printf 'size\tstore_MiB\txapian_MiB\traw_mbox_MiB\n%s\t%.1f\t%.1f\t%.1f\n' \
		"$size" "$(echo "$store / 1048576" | bc -l)" \
		"$(echo "$xap / 1048576" | bc -l)" \
		"$(echo "$(stat -c %s "$set/all.mbox") / 1048576" | bc -l)" \
		> "$res/skarbnica-size-$size.tsv"
}

# ---- queries as commands -----------------------------------------------------
# One hyperfine run per query and tool; hyperfine -N splits like a shell, so
# the query goes in single quotes (none of ours contains one).
query_cmds() { # size
	local size=$1 db="$work/db/skarbnica-$1" out="$res/query-cmd-$1.tsv"
	local nm_conf="$work/db/notmuch-$1/config" muhome="$work/db/mu-$1/mu"
	printf 'id\ttool\tmatches\tp50_ms\tp99_ms\n' > "$out"
	hf -N -w 2 -r "$qruns" --export-json "$res/json/floor-true.json" -- true >/dev/null
	printf 'floor\ttrue\t-\t%s\n' "$(python3 "$root/bench/lib/stats.py" hyperfine "$res/json/floor-true.json")" >> "$out"
	hf -N -w 2 -r "$qruns" -i --export-json "$res/json/floor-sk-$size.json" -- \
		"$SK -d $db search --limit 1 'nonexistentwordxyz'" >/dev/null
	printf 'floor\tskarbnica\t0\t%s\n' "$(python3 "$root/bench/lib/stats.py" hyperfine "$res/json/floor-sk-$size.json")" >> "$out"
	grep -v '^#' "$root/bench/queries-skarbnica.tsv" | while IFS=$'\t' read -r id kind q _; do
		local n
		n=$("$SK" -d "$db" search --json --limit 1 "$q" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
		hf -N -w 2 -r "$qruns" -i --export-json "$res/json/$id-sk-$size.json" -- \
			"$SK -d $db search --limit 100 '$q'" >/dev/null
		printf '%s\tskarbnica\t%s\t%s\n' "$id" "$n" \
			"$(python3 "$root/bench/lib/stats.py" hyperfine "$res/json/$id-sk-$size.json")" >> "$out"
	done
	grep -v '^#' "$shared/queries.tsv" | while IFS=$'\t' read -r id kind nq mq _; do
		local n
		if [[ " $peers " == *" notmuch "* ]] && [ -f "$nm_conf" ]; then
			n=$(NOTMUCH_CONFIG=$nm_conf notmuch count "$nq")
			NOTMUCH_CONFIG=$nm_conf hf -N -w 2 -r "$qruns" -i \
				--export-json "$res/json/$id-notmuch-$size.json" -- \
				"notmuch search --limit=100 '$nq'" >/dev/null
			printf '%s\tnotmuch\t%s\t%s\n' "$id" "$n" \
				"$(python3 "$root/bench/lib/stats.py" hyperfine "$res/json/$id-notmuch-$size.json")" >> "$out"
		fi
		if [[ " $peers " == *" mu "* ]] && [ -d "$muhome/xapian" ]; then
			n=$(mu find --muhome="$muhome" --fields=i "$mq" 2>/dev/null | wc -l || true)
			hf -N -w 2 -r "$qruns" -i \
				--export-json "$res/json/$id-mu-$size.json" -- \
				"mu find --muhome=$muhome --maxnum=100 --reverse '$mq'" >/dev/null
			printf '%s\tmu\t%s\t%s\n' "$id" "$n" \
				"$(python3 "$root/bench/lib/stats.py" hyperfine "$res/json/$id-mu-$size.json")" >> "$out"
		fi
	done
	log "query commands $size: $out"
}

# ---- in-process ------------------------------------------------------------------
inproc() { # size
	local size=$1 db="$work/db/skarbnica-$1"
	"$INPROC" -d "$db" -n "$qruns" "$root/bench/queries-skarbnica.tsv" \
		> "$res/inproc-skarbnica-$size.tsv"
	"$INPROC" -d "$db" -n "$qruns" --flat --no-facets --limit 100 \
		"$root/bench/queries-skarbnica.tsv" > "$res/inproc-skarbnica-flat-$size.tsv"
	if [[ " $peers " == *" notmuch "* ]] && [ -f "$work/db/notmuch-$size/config" ] &&
		"$PY" -c 'import notmuch2' 2>/dev/null; then
		NOTMUCH_CONFIG="$work/db/notmuch-$size/config" "$PY" \
			"$shared/lib/inproc_notmuch.py" "$shared/queries.tsv" "$qruns" \
			> "$res/inproc-notmuch-$size.tsv"
	fi
}

# ---- web -------------------------------------------------------------------------
# bench/wrk/run.sh (`skarbnica serve --public` on 127.0.0.1, wrk with
# bench/wrk/skarbnica.lua): search pages cycling over our query set plus
# bench/wrk/queries-pl.txt, then thread pages. Its output keeps wrk's report
# and the "wrkstat" line per mode that report.py reads.
web() { # size
	local size=$1 db="$work/db/skarbnica-$1" out="$res/web-$1.txt" port
	if [ ! -f "$root/bench/wrk/run.sh" ]; then
		echo "wrkstat skipped (no bench/wrk/run.sh)" > "$out"; return
	fi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	WRK_QUERIES="$root/bench/queries-skarbnica.tsv" sh "$root/bench/wrk/run.sh" \
		-d "$db" --bin "$SK" --port "$port" --label "btrfs-$size" \
		--duration "${WRK_SECONDS:-30}s" --connections "${WRK_CONNECTIONS:-32}" \
		--modes "search thread" > "$out" 2>&1 ||
		log "bench/wrk/run.sh failed (see $out)"
	grep '^wrkstat' "$out" >&2 || true
}

# ---- Polish queries on the demo corpus --------------------------------------------
demo() {
	local db="$work/db/skarbnica-demo" out="$res/query-cmd-demo.tsv"
	if [ ! -f "$db/skarbnica.db" ] || [ "${BENCH_REUSE:-0}" != 1 ]; then
		rm -rf "$db"
		"$SK" -d "$db" -c "$root/demo/skarbnica.conf" init >/dev/null
		for f in "$root"/demo/*.mbox; do
			"$SK" -d "$db" -c "$root/demo/skarbnica.conf" ingest --mbox "$f" >/dev/null 2>&1
		done
	fi
	printf 'id\ttool\tmatches\tp50_ms\tp99_ms\n' > "$out"
	grep -v '^#' "$root/bench/queries-polish.tsv" | while IFS=$'\t' read -r id kind q _; do
		[ -n "$q" ] || continue
		local n
		n=$("$SK" -d "$db" search --json --limit 1 "$q" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
		hf -N -w 2 -r "$qruns" -i --export-json "$res/json/$id-sk-demo.json" -- \
			"$SK -d $db search --limit 100 '$q'" >/dev/null
		printf '%s\tskarbnica\t%s\t%s\n' "$id" "$n" \
			"$(python3 "$root/bench/lib/stats.py" hyperfine "$res/json/$id-sk-demo.json")" >> "$out"
	done
	"$INPROC" -d "$db" -n "$qruns" "$root/bench/queries-polish.tsv" > "$res/inproc-skarbnica-demo.tsv"
}

# ---- the run ------------------------------------------------------------------------
# BENCH_STEPS picks steps (default all): ingest query inproc web demo.
steps=" ${BENCH_STEPS:-ingest query inproc web demo} "
step() { [[ "$steps" == *" $1 "* ]]; }
# BENCH_REUSE=1 keeps the databases and the ingest lines of an earlier run.
{ [ "${BENCH_REUSE:-0}" = 1 ] || ! step ingest; } || rm -f "$res/index.tsv"
reuse() { [ "${BENCH_REUSE:-0}" = 1 ] && [ -e "$1" ]; }
for size in $sizes; do
	runs=$runs_small; [ "$size" = 10k ] || runs=$runs_big
	if ! step ingest; then
		:
	elif reuse "$work/db/skarbnica-$size/skarbnica.db"; then
		log "reusing $work/db/skarbnica-$size (ingest not timed again)"
	else
		sk_ingest "$size" "$runs"
	fi
	for p in $peers; do
		step ingest || continue
		case $p in notmuch) pdb="$work/db/notmuch-$size/config" ;;
		mu) pdb="$work/db/mu-$size/mu/xapian" ;; *) pdb="$work/db/$p-$size/inbox" ;; esac
		if reuse "$pdb"; then
			log "reusing $work/db/$p-$size (ingest not timed again)"
		else
			"$shared/index.sh" "$p" "$size" "$runs" >/dev/null
		fi
	done
	if step query; then query_cmds "$size"; fi
	if step inproc; then inproc "$size"; fi
	if step web; then web "$size"; fi
done
if step demo; then demo; fi
python3 "$root/bench/lib/report.py" --work "$work" --sizes "$sizes" \
	--peers "$peers" --label "${BENCH_LABEL:-}" \
	--docs "${BENCH_DOCS:-$root/docs/performance.md}"
