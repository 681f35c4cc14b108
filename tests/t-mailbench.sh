#!/bin/sh
# the mail row of `make bench` works: a small load through every row
# (enquiries from new senders, from one sender, and both floor rows) counts
# exactly the arrivals each run should have, and no run tempfails. it
# measures nothing: the figures are the bench's to print.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
failed=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; failed=$((failed + 1)); }

make --no-print-directory -s build/mailblast build/nullmilter >/dev/null || {
	nok "build/mailblast and build/nullmilter build"
	exit 1
}
N=40
out=$(BENCH_MAIL_WAIT=30 BENCH_MAIL_SETTLE=0 timeout 600 \
    sh tests/bench/mail.sh $N 4 2 both 2>&1)
rc=$?
case $out in
"mail bench skipped: "*)
	echo "skip - ${out#mail bench skipped: }"
	exit 0 ;;
esac
[ $rc -eq 0 ] && ok "mail.sh exits 0" || nok "mail.sh exits 0 (rc $rc)"

# runs per row: 2 rounds, each without and with a filter
for kind in "every sender new" "one sender" "floor, reads only" \
    "floor, five changes"; do
	n=$(echo "$out" | grep -c "^mail row ($kind): with .* ratio [0-9]")
	[ "$n" -eq 1 ] && ok "row \"$kind\" printed with its ratio" ||
	    nok "row \"$kind\" printed with its ratio"
done
# arrivals: N without a filter; with enquiry-milter N routed copies and an
# acknowledgement for each new sender (N), or one a round for one sender;
# the floor filters send none
echo "$out" | awk -v n=$N '
/^mail: / { row++ }
/^  round .* without milter: / { if ($5 != n) bad++; runs++ }
/^  round .* with filter: / {
	want = row == 1 ? 2 * n : row == 2 ? n + 1 : n
	if ($5 != want) bad++; runs++
}
END { print runs + 0, bad + 0 }' | {
	read -r runs bad
	if [ "$runs" -eq 16 ] && [ "$bad" -eq 0 ]; then
		echo "ok - every run counted exactly its arrivals ($runs runs)"
	else
		echo "not ok - every run counted exactly its arrivals ($runs runs, $bad wrong)"
		exit 1
	fi
} || failed=$((failed + 1))
echo "$out" | grep -q "^  milter tempfails: 0$" &&
    ok "no tempfail from enquiry-milter" ||
    nok "no tempfail from enquiry-milter"
[ $failed -eq 0 ] || echo "$out" | sed 's/^/# /'
exit $((failed > 0))
