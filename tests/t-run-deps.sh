#!/bin/sh
# `make run` brings the clients its own README examples use: every command
# in the quick-start examples comes from a package in deps.sh's run group,
# and run-setup.sh (what `make run` calls) asks for that group.
set -u
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

# the run group, as deps.sh itself lists it
run_pkgs=$(sed -n 's/^pkgs_run="\(.*\)"$/\1/p' contrib/deps.sh)
[ -n "$run_pkgs" ] && ok "deps.sh has a run group: $run_pkgs" ||
    notok "deps.sh has no pkgs_run"
grep -q '^contrib/deps.sh run\b' contrib/run-setup.sh &&
    ok "run-setup.sh asks deps.sh for the run group" ||
    notok "run-setup.sh does not call contrib/deps.sh run"
grep -q 'contrib/run-setup.sh' Makefile &&
    ok "make run calls run-setup.sh" || notok "make run skips run-setup.sh"

# the commands of the quick start: the indented lines between "make run"
# and the next heading, each pipeline's commands
cmds=$(sed -n '/^## Quick start/,/^## /p' README.md | grep '^    ' |
    grep -v '^    make ' | sed 's/#.*//' | tr '|' '\n' |
    awk '{ print $1 }' | grep -v '^printf$' | sort -u)
[ -n "$cmds" ] && ok "the quick start uses: $(echo $cmds)" ||
    notok "no commands found in the README's quick start"
for c in $cmds; do
	bin=$(command -v "$c") || { notok "$c: not installed here"; continue; }
	# through alternatives (nc -> nc.openbsd) to the file a package owns
	# (a merged /usr: dpkg may know it as /bin/... rather than /usr/bin/...)
	path=$(readlink -f "$bin")
	pkg=$({ dpkg -S "$path" || dpkg -S "${path#/usr}"; } 2>/dev/null |
	    head -n 1 | cut -d: -f1)
	case " $run_pkgs " in
	*" $pkg "*) ok "$c comes from $pkg, in the run group" ;;
	*) notok "$c comes from '${pkg:-?}', which make run does not bring" ;;
	esac
done
contrib/deps.sh run && ok "deps.sh run: everything is installed here" ||
    notok "deps.sh run failed"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
