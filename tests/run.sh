#!/bin/sh
# run every test program and add up their "ok" / "not ok" lines.
# unit tests: build/tests/test_*; integration tests: tests/t-*.sh, tests/t-*.py
# a program that exits non-zero without reporting a failure counts as one.
# ONLY=pattern runs the matching tests only.
set -u
cd "$(dirname "$0")/.." || exit 1
export TOP="$PWD"
passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

for t in build/tests/test_* tests/t-*.sh tests/t-*.py; do
	[ -x "$t" ] || continue
	case "$t" in *.d|*.o) continue ;; esac
	if [ -n "${ONLY:-}" ]; then
		case "$t" in *$ONLY*) ;; *) continue ;; esac
	fi
	echo "# $t"
	start=$(date +%s)
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(grep -c '^ok' "$out")
	f=$(grep -c '^not ok' "$out")
	s=$(grep -c '^skip' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $t exited with status $rc"
		f=1
	fi
	echo "# $t: $p passed, $f failed, $s skipped ($(( $(date +%s) - start ))s)"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
