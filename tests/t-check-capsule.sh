#!/bin/sh
# capsule-check passes the real capsule and fails each broken sample in
# tests/check-capsule/ with the expected "file:line: problem" message.
# this also makes `make test` cover `make check-capsule`.
set -u
cd "$(dirname "$0")/.." || exit 1
chk=build/capsule-check
samples=tests/check-capsule
passed=0 failed=0

ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

if [ ! -x "$chk" ]; then
	notok "$chk is built (run make)"
	echo "$passed passed, $failed failed"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run the checker with a time bound; stdout+stderr in $tmp/out, status in rc
run() {
	timeout 30 "$chk" "$@" >"$tmp/out" 2>&1
	rc=$?
}

# expect DIR STATUS [FILE:LINE WORD [COUNT]]: the exit status, and a
# problem line naming FILE:LINE and containing WORD, and COUNT problems
expect() {
	dir=$1 want=$2 where=${3:-} word=${4:-} count=${5:-1}
	run "$dir"
	if [ "$rc" -ne "$want" ]; then
		notok "$dir: exit status $rc, want $want"
		sed 's/^/#   /' "$tmp/out"
		return
	fi
	[ -z "$where" ] && { ok "$dir: exit status $want"; return; }
	n=$(grep -c '^[^ ]*:[0-9][0-9]*: ' "$tmp/out")
	if grep -F -- "$dir/$where: " "$tmp/out" | grep -qi -- "$word" &&
	    [ "$n" -eq "$count" ]; then
		ok "$dir: $where: $word"
	else
		notok "$dir: want $where: ...$word... ($count problem(s)), got:"
		sed 's/^/#   /' "$tmp/out"
	fi
}

# 1. the real capsule, and the good sample with everything allowed in it
expect capsule 0
grep -q '^capsule-check: [0-9]* files, 0 problems$' "$tmp/out" &&
    ok "capsule: summary says 0 problems" ||
    notok "capsule: summary line: $(tail -n 1 "$tmp/out")"
expect "$samples/good" 0

# 2. one broken sample per problem
expect "$samples/bom" 1 index.gmi:1 byte-order
expect "$samples/utf8-overlong" 1 index.gmi:3 overlong
expect "$samples/utf8-overlong3" 1 index.gmi:3 overlong
expect "$samples/utf8-surrogate" 1 index.gmi:4 surrogate
expect "$samples/utf8-range" 1 index.gmi:2 "above U+10FFFF"
expect "$samples/utf8-truncated" 1 about.txt:2 truncated
expect "$samples/latin1" 1 notes.txt:1 "invalid UTF-8"
expect "$samples/crlf" 1 index.gmi:1 CRLF
expect "$samples/trailing-space" 1 index.gmi:3 "trailing whitespace"
expect "$samples/trailing-nbsp" 1 index.gmi:3 "trailing whitespace"
expect "$samples/control" 1 index.gmi:3 "control character"
expect "$samples/link-no-url" 1 index.gmi:3 "no URL"
expect "$samples/link-control" 1 index.gmi:2 "control character in URL" 2
expect "$samples/link-scheme" 1 index.gmi:4 scheme
expect "$samples/link-no-host" 1 index.gmi:2 "no host"
expect "$samples/link-mailto" 1 index.gmi:2 "mailto:"
expect "$samples/link-percent" 1 index.gmi:2 percent
expect "$samples/link-missing" 1 index.gmi:3 "does not exist"
expect "$samples/link-space" 1 index.gmi:2 "cannot contain spaces"
expect "$samples/link-not-dir" 1 index.gmi:2 "not a directory"
expect "$samples/link-dir-no-index" 1 index.gmi:2 "without index.gmi"
expect "$samples/link-escape" 1 index.gmi:2 "climbs out"
expect "$samples/link-escape-encoded" 1 sub/index.gmi:2 "climbs out"
expect "$samples/link-dotfile" 1 index.gmi:2 dot-file
expect "$samples/dotfile-walked" 1 .notes/todo.txt:1 "trailing whitespace"
expect "$samples/no-heading" 1 index.gmi:1 "level-1 heading"
expect "$samples/heading-in-pre" 1 index.gmi:1 "level-1 heading"
expect "$samples/unterminated-pre" 1 index.gmi:3 unterminated
expect "$samples/symlink-escape" 1 out.gmi:1 "leaves the root"
expect "$samples/symlink-absolute" 1 host.txt:1 "absolute symlink"
expect "$samples/symlink-dangling" 1 gone.gmi:1 dangling
expect "$samples/symlink-link" 1 index.gmi:2 "through a symlink" 2

# 3. every sample directory is covered above
for d in "$samples"/*/; do
	d=${d%/}
	grep -q "^expect \"\$samples/${d##*/}\" " "$0" ||
	    notok "$d: sample without an expectation in $0"
done

# 4. the edits a sysadmin might make to a copy of the real capsule
cp -R capsule "$tmp/cap"
rm "$tmp/cap/partners.gmi"
expect "$tmp/cap" 1 index.gmi:10 "does not exist" 3
cp capsule/partners.gmi "$tmp/cap/"
sed 's/$/\r/' capsule/strategy.gmi >"$tmp/cap/strategy.gmi"
expect "$tmp/cap" 1 strategy.gmi:1 CRLF
cp capsule/strategy.gmi "$tmp/cap/"
mkfifo "$tmp/cap/fifo"
expect "$tmp/cap" 1 fifo:1 "not a regular file"
rm "$tmp/cap/fifo"
expect "$tmp/cap" 0
# a hard link to a file outside the root: capsuled does not serve it, and
# every name of a file linked twice inside is reported (issue 14, item 7)
echo "root:x:0:0" >"$tmp/passwd"
ln "$tmp/passwd" "$tmp/cap/passwd.txt"
expect "$tmp/cap" 1 passwd.txt:1 "hard link"
rm "$tmp/cap/passwd.txt"
ln "$tmp/cap/about.txt" "$tmp/cap/about2.txt"
expect "$tmp/cap" 1 about2.txt:1 "does not serve it" 2
grep -q "^$tmp/cap/about.txt:1: .*hard link" "$tmp/out" &&
    ok "both names of a twice-linked file are reported" ||
    notok "about.txt not reported: $(tr '\n' ' ' <"$tmp/out")"
rm "$tmp/cap/about2.txt"
# a name capsuled leaves out of its listings
printf 'x\n' >"$tmp/cap/$(printf 'bad\033[1mname.txt')"
expect "$tmp/cap" 1 'bad\x1b[1mname.txt:1' "does not list it"
rm "$tmp/cap/$(printf 'bad\033[1mname.txt')"
# -A with an empty sub-directory: qsort(NULL, 0) aborted under UBSan
mkdir "$tmp/cap/empty"
run -A "$tmp/cap"
[ "$rc" -eq 0 ] && ok "-A: an empty sub-directory is checked" ||
    notok "-A with an empty sub-directory: status $rc: $(cat "$tmp/out")"
rmdir "$tmp/cap/empty"
expect "$tmp/cap" 0

# 5. several roots at once, a missing root, no root at all
run "$samples/good" "$samples/bom"
[ "$rc" -eq 1 ] && grep -q 'bom/index.gmi:1:' "$tmp/out" &&
    grep -q '^capsule-check: 11 files, 1 problem$' "$tmp/out" &&
    ok "two roots: problems and files added up" ||
    notok "two roots: status $rc, $(tr '\n' ' ' <"$tmp/out")"
run "$tmp/no-such-dir"
[ "$rc" -eq 1 ] && ok "a missing root is a problem" ||
    notok "a missing root: status $rc"
run
[ "$rc" -eq 2 ] && grep -q usage "$tmp/out" && ok "no root: usage, status 2" ||
    notok "no root: status $rc"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
