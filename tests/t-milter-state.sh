#!/bin/sh
# enquiry-milter's start-up and command line (issue 15 items 7, 8, 18):
#   1. the command line: -h, -l with a bad count, and -n refusing what
#      start-up would refuse (a missing user or socket-group, a template
#      that is not UTF-8, a capsule-url that is not a URL) and warning
#      about an empty hostname;
#   2. as root with a milter user: what that user can put in the state
#      directory (a link to a root-only directory or file) is refused with
#      a message naming the path, and root's files stay root's;
#   3. a state directory, spool directory or database others can write is
#      refused with a message naming it;
#   4. a spool file the milter did not write is never submitted;
#   5. -l as root drops root's supplementary groups.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/milter.sh"
[ -x "$BIN" ] || { echo "not ok - $BIN not built"; exit 1; }

milter_tmpdir t-mstate
S=$T/state
cp "$TOP/etc/templates/enquiry-ack.txt" "$T/ack.txt" && chmod 644 "$T/ack.txt"
mkconf() { # mkconf FILE [EXTRA LINE...]
	_f=$1; shift
	{
		echo "socket    = \"unix:$T/milter.sock\""
		echo "state-dir = \"$S\""
		echo "user      = \"$user\""
		echo "submit    = \"127.0.0.1:$deadport\""
		echo "hostname  = \"milter.test\""
		for _l in "$@"; do echo "$_l"; done
		echo 'enquiry "enquiries@rmet.org" {'
		echo '	route-to     = {"rachelle.stevens@rmet.org"}'
		echo "	ack-template = \"$T/ack.txt\""
		echo '}'
	} >"$_f"
	chmod 644 "$_f"
}
mkconf "$T/m.conf"

# 1. the command line
out=$("$BIN" -h 2>/dev/null); rc=$?
checke "-h prints the usage on stdout and exits 0" \
    '[ $rc -eq 0 ] && case "$out" in usage:*) true ;; *) false ;; esac'
for n in 0 abc; do
	out=$("$BIN" -c "$T/m.conf" -l $n 2>&1); rc=$?
	checke "-l $n: exit 2 and says what is wrong" \
	    '[ $rc -eq 2 ] && case "$out" in *"-l $n: the count must be a number from 1 to 1000000"*) true ;; *) false ;; esac'
done
nouser=enquiry-milter-no-such-user
sed "s/^user .*/user = \"$nouser\"/" "$T/m.conf" >"$T/nouser.conf"
out=$("$BIN" -n -c "$T/nouser.conf" 2>&1); rc=$?
checke "-n refuses a user that does not exist, naming it" \
    '[ $rc -eq 1 ] && [ "$out" = "$T/nouser.conf: user \"$nouser\" does not exist (create it, or set user)" ]'
mkconf "$T/nogroup.conf" 'socket-group = "no-such-group-here"'
out=$("$BIN" -n -c "$T/nogroup.conf" 2>&1); rc=$?
checke "-n refuses a socket-group that does not exist" \
    '[ $rc -eq 1 ] && [ "$out" = "$T/nogroup.conf: socket-group \"no-such-group-here\" does not exist" ]'
mkconf "$T/url.conf" 'capsule-url = "not a url"'
out=$("$BIN" -n -c "$T/url.conf" 2>&1); rc=$?
checke "-n refuses capsule-url = \"not a url\" with file:line" \
    '[ $rc -eq 1 ] && [ "$out" = "$T/url.conf:6: capsule-url: \"not a url\" is not a URL (scheme://host/path)" ]'
printf 'Dear {{name}},\n\nCaf\351 latin-1\n' >"$T/latin1.txt"
sed "s|$T/ack.txt|$T/latin1.txt|" "$T/m.conf" >"$T/latin1.conf"
out=$("$BIN" -n -c "$T/latin1.conf" 2>&1); rc=$?
checke "-n refuses a template that is not UTF-8, with file:line" \
    '[ $rc -eq 1 ] && [ "$out" = "$T/latin1.txt:3: not UTF-8" ]'
sed 's/^hostname .*/hostname = ""/' "$T/m.conf" >"$T/host.conf"
out=$("$BIN" -n -c "$T/host.conf" 2>&1 >/dev/null); rc=$?
checke "-n accepts hostname = \"\" with a warning" \
    '[ $rc -eq 0 ] && case "$out" in *"warning: hostname is empty: Message-IDs will end in \"@"*) true ;; *) false ;; esac'
out=$("$BIN" -n -c "$T/m.conf" 2>&1); rc=$?
checke "-n accepts the test config" '[ $rc -eq 0 ]'

if [ "$(id -u)" -ne 0 ]; then
	echo "skip - start-up as root (not root)"
	[ "$failed" -eq 0 ]
	exit
fi
if ! command -v setpriv >/dev/null 2>&1; then
	echo "skip - start-up as root: no setpriv"
	[ "$failed" -eq 0 ]
	exit
fi
asuser() { setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups "$@"; }

# start in the foreground: 0 once listening (mpid set), 1 once it exited
# (its output in $T/start.log), within 10 s
try_start() {
	rm -f "$T/milter.sock"
	"$BIN" -f -c "${1:-$T/m.conf}" >"$T/start.log" 2>&1 &
	mpid=$!
	_i=0
	while [ $_i -lt 100 ]; do
		[ -S "$T/milter.sock" ] && return 0
		if ! kill -0 "$mpid" 2>/dev/null; then
			wait "$mpid" 2>/dev/null; mpid=""
			return 1
		fi
		sleep 0.1; _i=$((_i + 1))
	done
	return 0
}

# 2. a first start makes the state, as the user
if try_start; then ok "started as root with user $user"
else notok "started as root with user $user"; sed 's/^/#   /' "$T/start.log"; fi
milter_stop
checke "state-dir handed to $user" '[ "$(stat -c %U "$S")" = "$user" ] && [ "$(stat -c %U "$S/spool/failed")" = "$user" ]'

# the user replaces spool/failed with a link to a directory of root's
mkdir "$T/rootdir" && chmod 700 "$T/rootdir"
asuser sh -c "rmdir '$S/spool/failed' && ln -s '$T/rootdir' '$S/spool/failed'"
checke "$user could put the link there" '[ -L "$S/spool/failed" ]'
if try_start; then
	notok "spool/failed a link: start-up refused"; milter_stop
else
	checke "spool/failed a link: start-up refused, naming it" \
	    'grep -q "$S/spool/failed is a symbolic link: refusing to start" "$T/start.log"'
fi
checke "the root-only directory is still root's" \
    '[ "$(stat -c %U:%a "$T/rootdir")" = "root:700" ]'
asuser sh -c "rm '$S/spool/failed' && mkdir -m 750 '$S/spool/failed'"

# ... and enquiries.db-shm with a link to a file of root's
printf 'secret\n' >"$T/rootfile" && chmod 600 "$T/rootfile"
asuser ln -s "$T/rootfile" "$S/enquiries.db-shm"
if try_start; then
	notok "enquiries.db-shm a link: start-up refused"; milter_stop
else
	checke "enquiries.db-shm a link: start-up refused, naming it" \
	    'grep -q "$S/enquiries.db-shm is a symbolic link: refusing to start" "$T/start.log"'
fi
checke "the root-only file is still root's" \
    '[ "$(stat -c %U:%a "$T/rootfile")" = "root:600" ]'
asuser rm "$S/enquiries.db-shm"

# ... and the state directory itself
mv "$S" "$T/state.real" && ln -s "$T/state.real" "$S"
if try_start; then
	notok "state-dir a link: start-up refused"; milter_stop
else
	checke "state-dir a link: start-up refused, naming it" \
	    'grep -q "$S is a symbolic link: refusing to start" "$T/start.log"'
fi
rm "$S" && mv "$T/state.real" "$S"

# 3. writable by others
for p in "$S" "$S/spool" "$S/spool/new" "$S/enquiries.db"; do
	mode=$(stat -c %a "$p")
	chmod o+w "$p"
	if try_start; then
		notok "$p writable by everyone: start-up refused"; milter_stop
	else
		checke "$p writable by everyone: start-up refused, naming it" \
		    'grep -q "$p is writable by everyone (mode 0$(stat -c %a "$p")): refusing to start" "$T/start.log"'
	fi
	chmod "$mode" "$p"
done
chmod g+w "$S/spool/tmp"
if try_start; then
	notok "spool/tmp writable by its group: start-up refused"; milter_stop
else
	checke "spool/tmp writable by its group: start-up refused, naming it" \
	    'grep -q "$S/spool/tmp is writable by its group" "$T/start.log"'
fi
chmod g-w "$S/spool/tmp"
chown daemon "$S/spool/new"
if try_start; then
	notok "spool/new owned by daemon: start-up refused"; milter_stop
else
	checke "spool/new owned by daemon: start-up refused, naming it" \
	    'grep -q "$S/spool/new belongs to uid $(id -u daemon), not to $user or root: refusing to start" "$T/start.log"'
fi
chown "$user" "$S/spool/new"

# 4. spool files the milter did not write: one of root's, one a link
printf 'rcpt victim@example.org\nref FORGED\n\nFrom: Head of Governance <rachelle.stevens@rmet.org>\r\nSubject: new bank details\r\n\r\nx\r\n' \
    >"$S/spool/new/1000000000.FORGED" && chmod 644 "$S/spool/new/1000000000.FORGED"
cp "$S/spool/new/1000000000.FORGED" "$T/forged.txt" && chmod 644 "$T/forged.txt"
asuser ln -s "$T/forged.txt" "$S/spool/new/1000000001.LINKED"
if try_start; then ok "starts with stray files in spool/new"
else notok "starts with stray files in spool/new"; sed 's/^/#   /' "$T/start.log"; fi
i=0
while [ $i -lt 50 ] && { [ -e "$S/spool/new/1000000000.FORGED" ] ||
    [ -L "$S/spool/new/1000000001.LINKED" ]; }; do
	sleep 0.1; i=$((i + 1))
done
milter_stop
for f in 1000000000.FORGED 1000000001.LINKED; do
	checke "spool file $f not ours: not submitted, moved to failed/" \
	    '[ ! -e "$S/spool/new/$f" ] && [ ! -L "$S/spool/new/$f" ] &&
	    grep -q "spool $f: not a regular file of the milter.s own" "$T/start.log"'
done
checke "no attempt to submit them" \
    '! grep -q "ack 100000000[01]" "$T/start.log"'

# 5. -l as root: root's groups dropped. started with supplementary group
# 0 (setpriv --groups 0), and the database readable only by group root:
# the milter's user must not read it through a group it should not have
chown -R root:root "$S" && chmod 770 "$S" && chmod 660 "$S/enquiries.db"
out=$(setpriv --groups 0 "$BIN" -c "$T/m.conf" -l 2>&1); rc=$?
[ $rc -eq 1 ] || echo "# rc $rc: $out"
checke "-l as root with group 0 drops it (a group-root database is unreadable)" \
    '[ $rc -eq 1 ] && case "$out" in *"unable to open database"*) true ;; *) false ;; esac'
chown -R "$user" "$S" && chmod 750 "$S" && chmod 640 "$S/enquiries.db"
sed "s|^state-dir .*|state-dir = \"$S\"|" "$T/nouser.conf" >"$T/nouser-l.conf"
out=$("$BIN" -c "$T/nouser-l.conf" -l 2>&1); rc=$?
checke "-l as root with a user that does not exist: refused, not read as root" \
    '[ $rc -eq 1 ] && [ "$out" = "enquiry-milter: user \"$nouser\" does not exist: not reading the database as root" ]'
out=$(setpriv --groups 0 "$BIN" -c "$T/m.conf" -l 2>&1); rc=$?
checke "-l as root reads the user's own database" \
    '[ $rc -eq 0 ] && case "$out" in REFERENCE*) true ;; *) false ;; esac'
[ "$failed" -eq 0 ]
