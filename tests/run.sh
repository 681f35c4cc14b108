#!/bin/sh
# run every test program and add up their "ok" / "not ok" lines.
# unit tests: build/tests/test_*; integration tests: tests/t-*.sh, tests/t-*.py
# a program that exits non-zero without reporting a failure counts as one.
# ONLY=pattern runs the matching tests only.
# FAST=1 (make check) runs the unit tests and the integration tests of
# FAST_TESTS only.
# SANITIZE=1 (make test SANITIZE=1): every sanitized program, daemons and
# their sandboxed workers included, writes its ASan/UBSan/LSan reports into
# one directory; a test after which a report appears fails, and shows it.
set -u
cd "$(dirname "$0")/.." || exit 1
export TOP="$PWD"
passed=0 failed=0 skipped=0
out=$(mktemp)
sandir=
trap 'rm -f "$out"; [ -z "$sandir" ] || rm -rf "$sandir"' EXIT

if [ "${SANITIZE:-}" = 1 ]; then
	if [ "$(cat build/.flavour 2>/dev/null)" != sanitize ]; then
		echo "not ok - build/ is not sanitized: run make test SANITIZE=1"
		exit 1
	fi
	sandir=$(mktemp -d /tmp/sanitizer.XXXXXX) || exit 1
	chmod 1777 "$sandir"	# workers write theirs as their own user
	so="log_path=$sandir/report:print_summary=1"
	export ASAN_OPTIONS="detect_leaks=1:$so${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:$so"
fi

# a report, with frames a sandboxed worker could not symbolize itself
sanitizer_show() {
	head -n 80 "$1" | while IFS= read -r line; do
		case "$line" in
		*"(/"*"+0x"*")")
			mod=${line##*(} && mod=${mod%)}
			where=$(addr2line -f -i -p -C -e "${mod%+*}" "${mod##*+}" \
			    2>/dev/null | head -n 1)
			echo "#   $line ${where:-}" ;;
		*)	echo "#   $line" ;;
		esac
	done
}

# make check's integration tests: those that took 5 s or less each in a
# whole-suite run on a 2-core machine shared with other builds (together
# about 40 s, the unit tests about 1 s). what starts Postfix, loads a
# server or waits out faults (10 to 40 s each) runs in make test only.
# measure again (tests/run.sh prints each test's seconds) before adding one
FAST_TESTS="t-addrcap.py t-capsule-pages.py t-check-capsule.sh t-confline.sh
	t-contrib.sh t-enquiries.sh t-gembench.sh t-gemini.py t-haproxy.py
	t-install.sh t-location.py t-logrotate.py t-milter-backscatter.sh
	t-plain-attack.py t-plain-defects.py t-plaintext.py t-proxy-listen.py
	t-run-deps.sh t-sandbox.py t-state.py t-syscalls.py"

for t in build/tests/test_* tests/t-*.sh tests/t-*.py; do
	[ -x "$t" ] || continue
	case "$t" in *.d|*.o) continue ;; esac
	if [ -n "${FAST:-}" ]; then
		case "$t" in
		tests/t-*)
			case " $(echo $FAST_TESTS) " in
			*" ${t#tests/} "*) ;;
			*) continue ;;
			esac ;;
		esac
	fi
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
	for r in ${sandir:+"$sandir"/report.*}; do
		[ -s "$r" ] || continue	# opened early by a worker, unused
		echo "not ok - $t: sanitizer report ${r##*/}"
		sanitizer_show "$r"
		f=$((f + 1))
	done
	[ -z "$sandir" ] || rm -f "$sandir"/report.*
	echo "# $t: $p passed, $f failed, $s skipped ($(( $(date +%s) - start ))s)"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
