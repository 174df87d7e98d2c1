#!/bin/sh
# tests/browser/run.sh: real-browser tests of the web front end.
#
# playwright-core drives Debian's Chromium (/usr/bin/chromium, or $CHROMIUM)
# against `skarbnica demo` served on 127.0.0.1 from a temporary data
# directory; axe-core is injected into the main pages. Builds nothing: it
# uses ./skarbnica (or $SKARBNICA_BIN). Run from anywhere; paths are
# resolved from the repository root.
#
#   sh tests/browser/run.sh                  every test file
#   sh tests/browser/run.sh search.test.mjs  some of them
#
# Skips visibly (exit 0) when node or chromium is missing; exits non-zero
# when a test fails. node --test prints its summary ("# tests N", "# pass N",
# "# fail N") at the end.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "SKIP: node not installed (apt-get install nodejs npm)"
	exit 0
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
	echo "SKIP: node $(node --version 2>/dev/null) is older than 20 (playwright-core needs 20)"
	exit 0
fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "SKIP: chromium not installed (apt-get install chromium)"
	exit 0
fi
export CHROMIUM

bin=${SKARBNICA_BIN:-./skarbnica}
case "$bin" in
/*) ;;
*) bin="$root/$bin" ;;
esac
if [ ! -x "$bin" ]; then
	echo "browser tests: $bin not found: run make first" >&2
	exit 1
fi

if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
	echo "browser tests: npm ci --no-audit --no-fund"
	if ! (cd "$here" && npm ci --no-audit --no-fund); then
		echo "browser tests: npm ci failed" >&2
		exit 1
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/skarbnica-browser.XXXXXX") || exit 1
pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port on 127.0.0.1 (the kernel's choice, released just before use).
port=${SKARBNICA_TEST_PORT:-$(node -e '
const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')}
base="http://127.0.0.1:$port"

"$bin" -d "$tmp/data" demo --listen "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
pid=$!

# Wait for /healthz (the demo loads ~450 messages first: a few seconds).
ok=
i=0
while [ $i -lt 300 ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		break
	fi
	if node -e '
fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1));' \
		"$base/healthz" 2>/dev/null; then
		ok=1
		break
	fi
	sleep 0.2
	i=$((i + 1))
done
if [ -z "$ok" ]; then
	echo "browser tests: the server did not answer /healthz at $base" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi
echo "browser tests: skarbnica demo at $base ($(head -n 1 "$tmp/server.log"))"

if [ $# -gt 0 ]; then
	files=
	for f in "$@"; do
		case "$f" in
		*/*) files="$files $f" ;;
		*) files="$files $here/$f" ;;
		esac
	done
else
	files=$(ls "$here"/*.test.mjs)
fi

# One file at a time: the machine has 2 cores shared by the server and
# Chromium.
conc=
if node --test-concurrency=1 -e 0 2>/dev/null; then
	conc=--test-concurrency=1
fi
# shellcheck disable=SC2086
SKARBNICA_BASE_URL=$base node --test $conc $files
rc=$?
if [ $rc -ne 0 ]; then
	echo "browser tests: FAILED (server log follows)" >&2
	tail -n 40 "$tmp/server.log" >&2
fi
exit $rc
