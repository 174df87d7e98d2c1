#!/bin/sh
# Run every test program; each prints cmocka's summary. The last line counts
# test programs in the plain "N passed, N failed" form.
passed=0
failed=0
failed_names=
for t in "$@"; do
	if "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $(basename "$t")"
	fi
done
if [ "$failed" -gt 0 ]; then
	echo "failed test programs:$failed_names"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
