#!/bin/sh
# the register row of `make bench`: enquiry-milter's own cost per message
# (decision, store, spool; no libmilter, no MTA) with 1,000 and with
# 100,000 cases in the register (build/regbench; see tests/bench/regbench.c).
# it measures and asserts nothing.
#   tests/bench/register.sh [MESSAGES]   (300 of each kind)
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
RB=${REGBENCH:-$TOP/build/regbench}
K=${1:-300}
[ -x "$RB" ] || { echo "register bench: $RB not built"; exit 1; }
echo "# register: enquiry-milter's cost per message by register size ($K of each kind)"
for n in 1000 100000; do
	"$RB" "$TOP/etc/templates" "$n" "$K" || exit 1
done
