#!/bin/sh
# tests/fuzz/seeds.sh OUT: the seed corpora of the fuzz targets, one file
# per input, in OUT/fuzz_mime, OUT/fuzz_query, OUT/fuzz_http and
# OUT/fuzz_config. Mail: tests/data (fixtures, Maildir, mbox split into
# messages), demo/*.mbox and, when present, ../shared/corpora (or
# $SKARBNICA_CORPORA): the first $FUZZ_CORPUS_MAX (500) messages of each
# mbox there and of demo/, and as many Maildir files. Rebuilt each time.
set -eu
cd "$(dirname "$0")/../.."
out=${1:?usage: seeds.sh OUT}
max=${FUZZ_CORPUS_MAX:-500}
rm -rf "$out"
mkdir -p "$out/fuzz_mime" "$out/fuzz_query" "$out/fuzz_http" "$out/fuzz_config"

# mbox on stdin -> one file per message (at most $2) named $1-N.eml.
split_mbox() {
	awk -v pre="$1" -v max="$2" '
		/^From / { if (f) close(f); n++; if (n > max) exit;
		           f = sprintf("%s-%04d.eml", pre, n); next }
		n >= 1 { sub(/^>From /, "From "); print > f }'
}

for f in tests/data/mime/*.eml; do
	cp "$f" "$out/fuzz_mime/$(basename "$f")"
done
find tests/data/maildir -type f -path '*/cur/*' -o -type f -path '*/new/*' |
	while read -r f; do
		cp "$f" "$out/fuzz_mime/maildir-$(echo "$f" | cksum | cut -d' ' -f1)"
	done
for f in tests/data/mbox/*.mbox; do
	split_mbox "$out/fuzz_mime/$(basename "$f" .mbox)" 100000 <"$f"
done
for f in demo/*.mbox; do
	[ -f "$f" ] || continue
	split_mbox "$out/fuzz_mime/$(basename "$f" .mbox)" "$max" <"$f"
done
corpora=${SKARBNICA_CORPORA:-../shared/corpora}
if [ -d "$corpora" ]; then
	find "$corpora" -type f \( -path '*/cur/*' -o -path '*/new/*' \) |
		head -n "$max" | while read -r f; do
			cp "$f" "$out/fuzz_mime/corpora-$(echo "$f" | cksum | cut -d' ' -f1)"
		done
	for f in $(find "$corpora" -name '*.mbox' -o -name '*.mbox.xz' | sort); do
		b=$(basename "$f" | sed 's/\.mbox.*//')
		case "$f" in
		*.xz) xz -dc "$f" 2>/dev/null | split_mbox "$out/fuzz_mime/$b" "$max" || true ;;
		*) split_mbox "$out/fuzz_mime/$b" "$max" <"$f" ;;
		esac
	done
else
	echo "seeds: no corpora at $corpora (tests/data and demo only)"
fi

# Queries: the conformance suite, one query a file, plus hostile ones.
n=0
grep -v '^#' tests/data/search/queries.txt | cut -f1 | while IFS= read -r q; do
	[ -n "$q" ] || continue
	n=$((n + 1))
	printf '%s' "$q" >"$out/fuzz_query/q$n"
done
i=0
for q in '((((((((((((((((((a))))))))))))))))))' '"niezamknięty' \
	'a OR OR b' 'NOT a' '-a -b' 'od: temat:' 'data:2024-13-01' \
	'data:2024-02-30..' 'foo:bar' 'gmina:JAŚKOWO' 'topic:../../etc' \
	'a AND' '( )' '""' 'ma:załącznik OR has:attachment' \
	'date:..2024' 'data:9999999999' 'ł ó ż ź ć ń ś ą ę'; do
	i=$((i + 1))
	printf '%s' "$q" >"$out/fuzz_query/hostile$i"
done

# HTTP: FLAGS METHOD\nTARGET\nCOOKIE\nORIGIN\nBODY (see fuzz_http.c).
# Flags: 1 public, 2 https, 4 reader, 8 coordinator, 16 add csrf.
i=0
http() {
	i=$((i + 1))
	printf "\\$(printf '%03o' "$1")%s\n%s\n%s\n%s\n%s" "$2" "$3" "$4" "$5" "$6" \
		>"$out/fuzz_http/h$i"
}
for fl in 0 1 4 8; do
	for t in / /szukaj?q=regulamin '/szukaj?q=regulamin&temat=zamowienia&strona=2&sort=data' \
		/temat/zamowienia /gmina/brzozowka /watek/1 /watek/1.mbox /watek/2 \
		/m/reg-1%40brzozowka.example/ /m/reg-1%40brzozowka.example/raw \
		/m/reg-2%40jaskowo.example/zalacznik/0 /m/hostile%40brzozowka.example/ \
		'/m/%2e%2e%2f%2e%2e%2fetc%2fpasswd/raw' '/m/reg-1%40brzozowka.example/zalacznik/..%2f1' \
		/m/%00/ /feed/temat/zamowienia.atom '/feed/szukaj.atom?q=regulamin' \
		'/api/v1/search?q=regulamin' /api/v1/topics /api/v1/thread/1 \
		/spotkania /healthz /metrics /robots.txt /static/skarbnica.css \
		'/zaloguj?dalej=/watek/1' '/szukaj?q=%ZZ' '/szukaj?q="a'; do
		http "$fl" GET "$t" "" "" ""
	done
done
http 0 POST /zaloguj "sk_login=fuzzLoginToken000000000000000000000000000" \
	"" "csrf=fuzzLoginToken000000000000000000000000000&email=anna%40brzozowka.example&password=x&dalej=%2Fwatek%2F1"
http 20 POST /wyloguj "" "https://skarbnica.example" ""
http 24 POST /spotkania/nowa "" "" "tytul=Notatka&tresc=%3Cscript%3E&kwartal=2024-Q4"
http 8 POST /spotkania/nowa "" "http://evil.example" "tytul=x"
http 0 PUT / "" "" ""
http 0 DELETE /watek/1 "" "" ""
http 4 POST / "" "null" "a=%FF"

# Config: the demo configuration, the documented example and bad lines.
cp demo/skarbnica.conf "$out/fuzz_config/demo.conf"
awk '/^```ini/{f=1; next} /^```/{f=0} f' docs/operations.md >"$out/fuzz_config/operations.conf"
i=0
for c in '[web]\nlisten = 127.0.0.1:9000\npublic = true\n' \
	'[imap]\nhost = 192.0.2.1\ntls = none\n' \
	'[imap]\nhost = localhost\ntls = none\nallow_plaintext = true\n' \
	'[partner "x"]\nname = X\n' '[web]\nlistne = y\n' \
	'[limits]\nmessage_bytes = 99999999999999999G\n' \
	'[smtp]\nport = 70000\n' '[log]\nlevel = verbose\n' '[web\nx=1\n' \
	'key-without-section = 1\n'; do
	i=$((i + 1))
	printf "$c" >"$out/fuzz_config/c$i.conf"
done
for d in fuzz_mime fuzz_query fuzz_http fuzz_config; do
	echo "seeds: $d: $(ls "$out/$d" | wc -l) inputs"
done
