#!/bin/sh
# the mail row of `make bench` works: a small load through every row
# (enquiries from new senders, the register in sqlite and, where
# postgresql is installed, in postgresql; from one sender; both floor
# rows) counts exactly the arrivals each run should have, and no run
# tempfails. it measures nothing: the figures are the bench's to print.
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

# runs per row: 2 rounds, each without and with a filter. the postgresql
# row runs where the server is installed (else mail.sh says why not)
pgrow=1
echo "$out" | grep -q "^mail bench: no postgresql row" && pgrow=0
for kind in "every sender new" "one sender" "floor, reads only" \
    "floor, five changes" $([ $pgrow -eq 1 ] && echo "pgrow"); do
	[ "$kind" = pgrow ] && kind="every sender new, postgresql"
	n=$(echo "$out" | grep -c "^mail row ($kind): with .* ratio [0-9]")
	[ "$n" -eq 1 ] && ok "row \"$kind\" printed with its ratio" ||
	    nok "row \"$kind\" printed with its ratio"
done
# arrivals: N without a filter; with enquiry-milter N routed copies and an
# acknowledgement for each new sender (N), or one a round for one sender;
# the floor filters send none
echo "$out" | awk -v n=$N '
/^mail: / { kind = /new sender|the same, the register/ ? "new" : /one sender/ ? "one" : "floor" }
/^  round .* without milter: / { if ($5 != n) bad++; runs++ }
/^  round .* with filter: / {
	want = kind == "new" ? 2 * n : kind == "one" ? n + 1 : n
	if ($5 != want) bad++; runs++
}
END { print runs + 0, bad + 0 }' | {
	read -r runs bad
	if [ "$runs" -eq $((16 + pgrow * 4)) ] && [ "$bad" -eq 0 ]; then
		echo "ok - every run counted exactly its arrivals ($runs runs)"
	else
		echo "not ok - every run counted exactly its arrivals ($runs runs, $bad wrong)"
		exit 1
	fi
} || failed=$((failed + 1))
echo "$out" | grep -q "^  milter tempfails: 0$" &&
    ok "no tempfail from enquiry-milter" ||
    nok "no tempfail from enquiry-milter"
if [ $pgrow -eq 1 ]; then
	echo "$out" | grep -q "^  postgresql milter tempfails: 0$" &&
	    ok "no tempfail from the postgresql one" ||
	    nok "no tempfail from the postgresql one"
fi
[ $failed -eq 0 ] || echo "$out" | sed 's/^/# /'
exit $((failed > 0))
