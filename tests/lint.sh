#!/bin/sh
# Module boundaries of DESIGN.md and the banned-function list, checked
# mechanically over the tracked and new source files.
set -u
cd "$(dirname "$0")/.." || exit 1
fail=0
files=$(git ls-files --cached --others --exclude-standard -- \
	'*.c' '*.h' '*.cc' 2>/dev/null || find . -name '*.[ch]' -o -name '*.cc')

bad() {
	echo "lint: $1"
	fail=1
}

for f in $files; do
	[ -f "$f" ] || continue
	mod=${f%%/*}
	incs=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$f")
	case "$f" in tests/*) continue ;; esac
	if echo "$incs" | grep -q '<xapian'; then
		case "$f" in index/*.cc) ;; *) bad "$f includes Xapian (only index/*.cc may)" ;; esac
	fi
	if echo "$incs" | grep -q '<libetpan'; then
		case "$mod" in ingest | mailer) ;; *) bad "$f includes libetpan (only ingest/ and mailer/ may)" ;; esac
	fi
	if echo "$incs" | grep -q '<microhttpd'; then
		[ "$mod" = web ] || bad "$f includes libmicrohttpd (only web/ may)"
	fi
	if echo "$incs" | grep -q '<sqlite3'; then
		case "$mod" in schema | index) ;; *) bad "$f includes sqlite3.h (only schema/ and index/ speak SQL)" ;; esac
	fi
	for other in ingest web mailer; do
		[ "$mod" = "$other" ] && continue
		case "$mod" in ingest | web | mailer)
			if echo "$incs" | grep -q "\"$other/"; then
				bad "$f includes a header of $other/ (ingest, web and mailer never include one another)"
			fi
			;;
		esac
	done
	# Other modules include only the public header of a module.
	for m in lib schema index ingest web mailer; do
		[ "$mod" = "$m" ] && continue
		echo "$incs" | grep -oE "\"$m/[^\"]+\"" | while read -r h; do
			case "$h" in "\"$m/sk_$m.h\"" | "\"lib/sk_base.h\"") ;;
			*) echo "lint: $f includes $h (only $m/sk_$m.h is public)"; echo x >>"${TMPDIR:-/tmp}/sk-lint.$$" ;;
			esac
		done
	done
	if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\(' "$f" |
		grep -vE '^\s*[0-9]+:\s*(/\*|\*)' >/dev/null; then
		grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\(' "$f" | sed "s|^|lint: banned function in $f:|"
		fail=1
	fi
done
# Every route name web/ sets has its own /metrics label (web/state.c);
# a missing one would be counted as "other".
for r in $(grep -ohE 'route = "[a-z_]+"' web/*.c | sed 's/.*"\(.*\)"/\1/') \
	$(sed -n '/names\[\] = {/,/};/p' web/curate.c | grep -oE '"[a-z_]+"' | tr -d '"'); do
	grep -q "\"$r\"" web/state.c || bad "route \"$r\" has no /metrics label in web/state.c"
done
if [ -f "${TMPDIR:-/tmp}/sk-lint.$$" ]; then
	rm -f "${TMPDIR:-/tmp}/sk-lint.$$"
	fail=1
fi
if [ $fail -ne 0 ]; then
	echo "lint: FAILED"
	exit 1
fi
echo "lint: module boundaries and banned functions OK"
