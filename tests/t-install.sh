#!/bin/sh
# make install / make uninstall: into a DESTDIR, and into a PREFIX where the
# installed daemons check their installed configs; an edited config or page
# survives a second install and an uninstall; an unedited one is upgraded.
set -u
cd "${TOP:-$(dirname "$0")/..}" || exit 1

fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() {	# description, then a command
	d=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi
}

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
D=$T/root
log=$T/log

# install what build/ holds: a sanitized build stays sanitized (run by hand
# after make test SANITIZE=1, make would otherwise rebuild it plain)
flavour=
[ "$(cat build/.flavour 2>/dev/null)" = sanitize ] && flavour=SANITIZE=1
inst() { make --no-print-directory -s $flavour "$@" >"$log" 2>&1; }

milter=no
[ -x build/enquiry-milter ] && milter=yes

# 1. into a DESTDIR, with the default PREFIX and SYSCONFDIR
if inst install DESTDIR="$D"; then ok "make install DESTDIR"; else
	notok "make install DESTDIR"; sed 's/^/# /' "$log"; fi

U=$D/usr/local
for f in "$U/sbin/capsuled" "$D/etc/capsuled.conf" \
    "$U/bin/capsule-check" "$U/share/man/man1/capsule-check.1" \
    "$U/share/man/man8/capsuled.8" "$U/share/man/man5/capsuled.conf.5" \
    "$U/lib/systemd/system/capsuled.service" \
    "$U/lib/sysusers.d/capsuled.conf" \
    "$U/share/capsuled/capsule/index.gmi" \
    "$U/share/doc/capsuled/haproxy.cfg" \
    "$U/share/doc/capsuled/main.cf.snippet" \
    "$D/etc/logrotate.d/capsuled"; do
	check "installed ${f#"$D"}" test -f "$f"
done
check "capsuled is executable" test -x "$U/sbin/capsuled"
check "capsule-check is executable" test -x "$U/bin/capsule-check"
check "installed config: state-dir /var/lib/capsuled" \
    grep -Eq '^state-dir *= *"/var/lib/capsuled"' "$D/etc/capsuled.conf"
check "installed config: root is the installed capsule" \
    grep -Eq 'root *= *"/usr/local/share/capsuled/capsule"' \
    "$D/etc/capsuled.conf"
check "installed unit runs the installed binary and config" \
    grep -q '^ExecStart=/usr/local/sbin/capsuled -f -c /etc/capsuled.conf$' \
    "$U/lib/systemd/system/capsuled.service"
check "every capsule file installed" \
    sh -c "cd capsule && find . -type f ! -name '.*' | while read -r f; do
	cmp -s \"\$f\" \"$U/share/capsuled/capsule/\$f\" || exit 1; done"
if [ $milter = yes ]; then
	check "installed enquiry-milter" test -x "$U/sbin/enquiry-milter"
	check "installed enquiries and its manual" \
	    test -x "$U/sbin/enquiries" -a -f "$U/share/man/man8/enquiries.8"
	check "installed enquiry-milter.service" \
	    test -f "$U/lib/systemd/system/enquiry-milter.service"
	check "installed milter config: socket under Postfix's spool" \
	    grep -q '"unix:/var/spool/postfix/enquiry-milter/enquiry-milter.sock"' \
	    "$D/etc/enquiry-milter.conf"
	check "installed milter config: no path inside the source tree" \
	    sh -c "! grep -nE '= *\"(unix:)?(etc|var)(/|\")' $D/etc/enquiry-milter.conf"
	for t in etc/templates/* etc/lists/*; do
		[ -f "$t" ] || continue
		check "installed ${t#etc/}" \
		    cmp -s "$t" "$D/etc/enquiry-milter/${t#etc/}"
	done
else
	echo "skip - enquiry-milter is not built: its files not checked"
fi

# 2. uninstall leaves nothing behind
if inst uninstall DESTDIR="$D"; then ok "make uninstall DESTDIR"; else
	notok "make uninstall DESTDIR"; sed 's/^/# /' "$log"; fi
left=$(find "$D" -type f | wc -l)
if [ "$left" -eq 0 ]; then ok "uninstall removed every file"; else
	notok "uninstall left $left files"; find "$D" -type f | sed 's/^/# /'; fi

# 3. edits survive: install, edit a config and a page, make an "old
# version" of another page (recorded as installed), install again
inst install DESTDIR="$D"
cp "$D/etc/capsuled.conf" "$T/fresh.conf"
echo "# edited by the sysadmin" >> "$D/etc/capsuled.conf"
echo "edited page line" >> "$U/share/capsuled/capsule/index.gmi"
M=$U/share/capsuled/installed.sha256
echo "an old version" > "$U/share/capsuled/capsule/about.txt"
old=$(sha256sum < "$U/share/capsuled/capsule/about.txt" | cut -d' ' -f1)
sed -i "s|^[0-9a-f]* /usr/local/share/capsuled/capsule/about.txt\$|$old /usr/local/share/capsuled/capsule/about.txt|" "$M"
if inst install DESTDIR="$D"; then ok "second make install"; else
	notok "second make install"; sed 's/^/# /' "$log"; fi
check "an edited config is not overwritten" \
    grep -q '^# edited by the sysadmin$' "$D/etc/capsuled.conf"
check "the new config is beside it as capsuled.conf.dist" \
    cmp -s "$T/fresh.conf" "$D/etc/capsuled.conf.dist"
check "an edited capsule page is not overwritten" \
    grep -q '^edited page line$' "$U/share/capsuled/capsule/index.gmi"
check "no .dist copy inside the capsule (it would be served)" \
    test ! -e "$U/share/capsuled/capsule/index.gmi.dist"
check "an unedited older page is upgraded" \
    cmp -s capsule/about.txt "$U/share/capsuled/capsule/about.txt"
check "the install said what it kept" grep -q 'kept (edited)' "$log"

# a third install: the edit still counts as an edit
inst install DESTDIR="$D"
check "third install still keeps the edited config" \
    grep -q '^# edited by the sysadmin$' "$D/etc/capsuled.conf"

# 4. uninstall keeps exactly the edited files
inst uninstall DESTDIR="$D"
check "uninstall keeps the edited config" test -f "$D/etc/capsuled.conf"
check "uninstall keeps the edited page" \
    test -f "$U/share/capsuled/capsule/index.gmi"
check "uninstall removes the .dist copy" test ! -e "$D/etc/capsuled.conf.dist"
left=$(find "$D" -type f ! -path "$D/etc/capsuled.conf" \
    ! -path "$U/share/capsuled/capsule/index.gmi" | wc -l)
if [ "$left" -eq 0 ]; then ok "uninstall removed every unedited file"; else
	notok "uninstall left $left unedited files"
	find "$D" -type f | sed 's/^/# /'; fi

# 5. into a PREFIX of our own: the installed daemons accept the installed
# configs, and systemd accepts the installed units
P=$T/prefix
if inst install PREFIX="$P" SYSCONFDIR="$P/etc"; then
	ok "make install PREFIX SYSCONFDIR"
else
	notok "make install PREFIX SYSCONFDIR"; sed 's/^/# /' "$log"
fi
if "$P/sbin/capsuled" -n -c "$P/etc/capsuled.conf" >"$log" 2>&1; then
	ok "installed capsuled -n accepts the installed config"
else
	notok "installed capsuled -n accepts the installed config"
	sed 's/^/# /' "$log"
fi
if [ $milter = yes ]; then
	# the config's user is the one the installed sysusers file creates;
	# -n refuses a user that does not exist (start-up as root would), so
	# where systemd-sysusers has not run, a copy naming nobody is checked
	mu=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
	    "$P/etc/enquiry-milter.conf")
	if grep -q "^u $mu " "$P/lib/sysusers.d/enquiry-milter.conf"; then
		ok "the installed sysusers file creates the config's user $mu"
	else
		notok "the installed sysusers file creates the config's user $mu"
	fi
	mconf=$P/etc/enquiry-milter.conf
	if ! id "$mu" >/dev/null 2>&1; then
		if "$P/sbin/enquiry-milter" -n -c "$mconf" >"$log" 2>&1 ||
		    ! grep -q "user \"$mu\" does not exist" "$log"; then
			notok "installed enquiry-milter -n refuses the missing user $mu"
			sed 's/^/# /' "$log"
		else
			ok "installed enquiry-milter -n refuses the missing user $mu"
		fi
		mconf=$T/enquiry-milter-nobody.conf
		sed "s/^\([[:space:]]*user[[:space:]]*=[[:space:]]*\)\"[^\"]*\"/\1\"nobody\"/" \
		    "$P/etc/enquiry-milter.conf" >"$mconf"
	fi
	if "$P/sbin/enquiry-milter" -n -c "$mconf" >"$log" 2>&1; then
		ok "installed enquiry-milter -n accepts the installed config"
	else
		notok "installed enquiry-milter -n accepts the installed config"
		sed 's/^/# /' "$log"
	fi
fi
if command -v systemd-analyze >/dev/null 2>&1; then
	# Documentation=man: pages are looked up with man(1), when there is one
	manopt=
	command -v man >/dev/null 2>&1 || manopt=--man=no
	for u in "$P"/lib/systemd/system/*.service; do
		# man pages are looked up in the installed tree
		if MANPATH="$P/share/man" systemd-analyze verify $manopt "$u" \
		    >"$log" 2>&1 && ! grep -q . "$log"; then
			ok "systemd-analyze verify installed $(basename "$u")"
		else
			notok "systemd-analyze verify installed $(basename "$u")"
			sed 's/^/# /' "$log"
		fi
	done
else
	echo "skip - systemd-analyze not installed"
fi

# 6. the installed capsuled serves the installed capsule: the installed
# config with only the port, state directory and user changed for a test
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chmod 755 "$T"
mkdir -p "$T/state"
user=$(id -un)
[ "$(id -u)" -eq 0 ] && { user=nobody; chown nobody "$T/state"; }
sed -e "s|^listen[[:space:]]*=.*|listen = {\"127.0.0.1:$port\"}|" \
    -e "s|^state-dir[[:space:]]*=.*|state-dir = \"$T/state\"|" \
    -e "s|^user[[:space:]]*=.*|user = \"$user\"|" \
    "$P/etc/capsuled.conf" > "$T/run.conf"
"$P/sbin/capsuled" -f -c "$T/run.conf" >"$T/run.log" 2>&1 &
cpid=$!
got=""
i=0
while [ $i -lt 50 ]; do
	got=$(printf 'gemini://localhost:%s/\r\n' "$port" | timeout 5 openssl s_client \
	    -quiet -connect "127.0.0.1:$port" -servername localhost \
	    2>/dev/null | head -c 4096)
	case "$got" in "20 "*) break ;; esac
	i=$((i + 1))
	sleep 0.1
done
kill "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null
case "$got" in
"20 text/gemini"*) ok "the installed capsuled serves the installed capsule" ;;
*) notok "the installed capsuled serves the installed capsule"
   printf '%s\n' "$got" | head -3 | sed 's/^/# got: /'
   sed 's/^/# /' "$T/run.log" | tail -5 ;;
esac
want=$(head -1 capsule/index.gmi)
if printf '%s\n' "$got" | grep -qF "$want"; then
	ok "its index page is the capsule's"
else
	notok "its index page is the capsule's"
fi

inst uninstall PREFIX="$P" SYSCONFDIR="$P/etc"
left=$(find "$P" -type f | wc -l)
if [ "$left" -eq 0 ]; then ok "uninstall from the PREFIX removed every file"
else notok "uninstall from the PREFIX left $left files"; fi

[ "$fails" -eq 0 ]
