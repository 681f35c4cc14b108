#!/bin/sh
# contrib/ and the manual pages, checked by the tools that will read them:
# systemd-analyze verify for the units, mandoc -T lint and groff warnings
# for the manual pages, haproxy -c for the HAProxy example, postconf for
# the Postfix lines. a tool that is missing is a skip, not a pass.
set -u
cd "${TOP:-$(dirname "$0")/..}" || exit 1

fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
skip() { echo "skip - $*"; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
out=$T/out

# manual pages: mandoc at warning level (its style notes about pages not
# installed on this machine depend on the machine), and groff as man -l
# runs it, with all warnings on
pages="contrib/man/capsuled.8 contrib/man/capsuled.conf.5
    contrib/man/capsule-check.1 contrib/man/enquiry-milter.8 contrib/man/enquiry-milter.conf.5"
for p in $pages; do
	if [ ! -f "$p" ]; then
		notok "$p exists"
		continue
	fi
	if command -v mandoc >/dev/null 2>&1; then
		if mandoc -T lint -W warning "$p" >"$out" 2>&1; then
			ok "mandoc -T lint $p"
		else
			notok "mandoc -T lint $p"; sed 's/^/# /' "$out"
		fi
	else
		skip "mandoc not installed: $p not linted"
	fi
	if command -v groff >/dev/null 2>&1; then
		groff -mandoc -ww -z -Tutf8 "$p" >"$out" 2>&1
		if [ $? -eq 0 ] && ! grep -q . "$out"; then
			ok "groff renders $p without warnings"
		else
			notok "groff renders $p without warnings"
			sed 's/^/# /' "$out"
		fi
	fi
done

# every key the config parsers know is in the manual (the keys are the
# strings given to CFG_* in src/capsuled/conf.c and src/milter/conf_milter.c)
keys_documented() {	# page parser...
	page=$1; shift
	[ -f "$page" ] || return 0
	set -- $(for f in "$@"; do [ -f "$f" ] && echo "$f"; done)
	[ $# -gt 0 ] || return 0
	missing=""
	for k in $(cat "$@" | grep -oE 'CFG_[A-Z_]+\("[a-z][a-z0-9-]*"' |
	    sed 's/.*("//; s/"$//' | sort -u); do
		grep -qE "Ic $k( |$)" "$page" || missing="$missing $k"
	done
	if [ -z "$missing" ]; then
		ok "every key of $* is described in $page"
	else
		notok "keys of $* missing from $page:$missing"
	fi
}
keys_documented contrib/man/capsuled.conf.5 src/capsuled/conf.c
keys_documented contrib/man/enquiry-milter.conf.5 src/milter/conf_milter.c \
    src/milter/conf_mlist.c

# every option of the built daemons' getopt strings has its .It Fl entry
opts_documented() {	# source page
	[ -f "$1" ] && [ -f "$2" ] || return 0
	o=$(grep -o 'getopt(argc, argv, "[^"]*")' "$1" | head -1 |
	    sed 's/.*"\(.*\)".*/\1/; s/://g')
	if [ -z "$o" ]; then
		notok "no getopt string found in $1"
		return
	fi
	missing=""
	for l in $(echo "$o" | sed 's/./& /g'); do
		grep -qE "^\.It Fl $l( |$)" "$2" || missing="$missing -$l"
	done
	if [ -z "$missing" ]; then
		ok "every option of $1 ($o) is described in $2"
	else
		notok "options of $1 missing from $2:$missing"
	fi
}
opts_documented src/capsuled/capsuled.c contrib/man/capsuled.8
opts_documented src/milter/enquiry-milter.c contrib/man/enquiry-milter.8
opts_documented src/capsule-check/capsule-check.c contrib/man/capsule-check.1

# systemd units: verified with the binaries stood in for by stubs (they
# are installed elsewhere; t-install verifies the installed units) and
# the manual pages looked up in contrib/man
if command -v systemd-analyze >/dev/null 2>&1; then
	# Documentation=man: pages are looked up with man(1), when there is one
	manopt=
	command -v man >/dev/null 2>&1 || manopt=--man=no
	mkdir -p "$T/sbin" "$T/units" "$T/man/man5" "$T/man/man8"
	for b in capsuled enquiry-milter; do
		printf '#!/bin/sh\nexit 0\n' > "$T/sbin/$b"
		chmod +x "$T/sbin/$b"
	done
	for p in contrib/man/*.[58]; do
		[ -f "$p" ] && cp "$p" "$T/man/man${p##*.}/"
	done
	for u in contrib/systemd/*.service; do
		n=$(basename "$u")
		sed "s|/usr/local/sbin/|$T/sbin/|g" "$u" > "$T/units/$n"
		if (cd "$T/units" && MANPATH="$T/man" \
		    systemd-analyze verify $manopt "./$n") >"$out" 2>&1 &&
		    ! grep -q . "$out"; then
			ok "systemd-analyze verify $u"
		else
			notok "systemd-analyze verify $u"; sed 's/^/# /' "$out"
		fi
		for k in NoNewPrivileges=yes ProtectSystem=strict \
		    CapabilityBoundingSet= StateDirectory= User= ExecReload=; do
			if ! grep -q "^$k" "$u"; then
				notok "$u sets $k"
				continue 2
			fi
		done
		ok "$u has the hardening settings"
	done
	if grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' \
	    contrib/systemd/capsuled.service &&
	    grep -q '^ExecReload=/bin/kill -USR1 \$MAINPID$' \
	    contrib/systemd/enquiry-milter.service; then
		ok "reload: SIGHUP for capsuled, SIGUSR1 for enquiry-milter"
	else
		notok "reload: SIGHUP for capsuled, SIGUSR1 for enquiry-milter"
	fi
else
	skip "systemd-analyze not installed (package systemd): units not verified"
fi

# haproxy example
if command -v haproxy >/dev/null 2>&1; then
	if haproxy -c -f contrib/haproxy/haproxy.cfg >"$out" 2>&1; then
		ok "haproxy -c accepts contrib/haproxy/haproxy.cfg"
	else
		notok "haproxy -c accepts contrib/haproxy/haproxy.cfg"
		sed 's/^/# /' "$out"
	fi
else
	skip "haproxy not installed: its example not checked"
fi

# postfix lines: postconf names each parameter it does not know
if command -v postconf >/dev/null 2>&1 && [ -f /etc/postfix/master.cf ]; then
	mkdir -p "$T/postfix"
	cp contrib/postfix/main.cf.snippet "$T/postfix/main.cf"
	cp /etc/postfix/master.cf "$T/postfix/master.cf"
	postconf -c "$T/postfix" -n >"$out" 2>&1
	if [ $? -eq 0 ] && ! grep -q 'warning' "$out" &&
	    grep -q '^milter_default_action = tempfail$' "$out"; then
		ok "postconf accepts contrib/postfix/main.cf.snippet"
	else
		notok "postconf accepts contrib/postfix/main.cf.snippet"
		sed 's/^/# /' "$out"
	fi
else
	skip "postfix not installed: main.cf.snippet not checked"
fi

# logrotate entry. its "su capsuled capsuled" names the user install
# creates (contrib/systemd/capsuled.sysusers); logrotate resolves it, so on
# a machine where no earlier test or install made that user the file is
# checked, unchanged, in a private mount namespace whose /etc/passwd and
# /etc/group have it: the result never depends on what ran before
lr_user=$(awk '$1 == "u" { print $2; exit }' contrib/systemd/capsuled.sysusers)
if grep -Eq "^[[:space:]]*su $lr_user $lr_user\$" contrib/logrotate/capsuled
then
	ok "logrotate's su names the user sysusers creates ($lr_user)"
else
	notok "logrotate's su names the user sysusers creates ($lr_user)"
fi
lr_check() {
	logrotate -d -s "$T/lr.state" contrib/logrotate/capsuled >"$out" 2>&1 &&
	    ! grep -qi 'error' "$out"
}
if ! command -v logrotate >/dev/null 2>&1; then
	skip "logrotate not installed: contrib/logrotate/capsuled not checked"
elif id "$lr_user" >/dev/null 2>&1; then
	if lr_check; then
		ok "logrotate -d accepts contrib/logrotate/capsuled"
	else
		notok "logrotate -d accepts contrib/logrotate/capsuled"
		sed 's/^/# /' "$out"
	fi
elif [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
	# a uid and gid no entry uses yet
	id_free=$(cat /etc/passwd /etc/group | awk -F: '$3 > n { n = $3 }
	    END { print (n < 60000 ? 60000 : n + 1) }')
	cp /etc/passwd "$T/passwd" && cp /etc/group "$T/group"
	echo "$lr_user:x:$id_free:$id_free::/nonexistent:/usr/sbin/nologin" \
	    >>"$T/passwd"
	echo "$lr_user:x:$id_free:" >>"$T/group"
	export T out
	if unshare -m sh -c 'mount --bind "$T/passwd" /etc/passwd &&
	    mount --bind "$T/group" /etc/group &&
	    logrotate -d -s "$T/lr.state" contrib/logrotate/capsuled \
	    >"$out" 2>&1' && ! grep -qi 'error' "$out"; then
		ok "logrotate -d accepts contrib/logrotate/capsuled" \
		    "(user $lr_user only in a private mount namespace)"
	else
		notok "logrotate -d accepts contrib/logrotate/capsuled"
		sed 's/^/# /' "$out"
	fi
else
	skip "user $lr_user does not exist and no private mount namespace" \
	    "for it: contrib/logrotate/capsuled not checked"
fi

if sh -n contrib/install.sh; then ok "contrib/install.sh parses"; else
	notok "contrib/install.sh parses"; fi

[ "$fails" -eq 0 ]
