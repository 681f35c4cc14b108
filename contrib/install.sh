#!/bin/sh
# make install / make uninstall: put both daemons, the capsule checker,
# their configs, the capsule, the manual pages, the systemd units and the contrib examples in
# place, honouring DESTDIR and the directory variables the Makefile passes.
#
# configs and capsule files are the sysadmin's once installed. a manifest,
# $DATADIR/capsuled/installed.sha256, records the checksum of every such
# file as installed, so that, like dpkg's conffiles:
#   - a file that is missing, or unedited since the last install, is
#     (re)installed;
#   - an edited config is kept and the new version is written beside it as
#     FILE.dist, to merge by hand; an edited capsule page or logrotate entry
#     is kept with a warning (a .dist copy would be served, or rotate the
#     log twice);
#   - uninstall removes what is unedited and keeps (and lists) what is
#     edited. the state directories (keys, database, spool) are never
#     touched.
#
# usage: contrib/install.sh install|uninstall (from the top of the tree)
set -eu

: "${DESTDIR:=}"
: "${PREFIX:=/usr/local}"
: "${SYSCONFDIR:=/etc}"
: "${BINDIR:=$PREFIX/sbin}"
: "${USERBINDIR:=$PREFIX/bin}"
: "${MANDIR:=$PREFIX/share/man}"
: "${DATADIR:=$PREFIX/share}"
: "${DOCDIR:=$DATADIR/doc/capsuled}"
: "${SYSTEMDUNITDIR:=$PREFIX/lib/systemd/system}"
: "${SYSUSERSDIR:=$PREFIX/lib/sysusers.d}"
: "${B:=build}"

CAPSULEDIR=$DATADIR/capsuled/capsule
MANIFEST=$DATADIR/capsuled/installed.sha256
MILTER_SOCKET=unix:/var/spool/postfix/enquiry-milter/enquiry-milter.sock
GEN=$B/install

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "  $*"; }

sum() { sha256sum < "$1" | cut -d' ' -f1; }

# the checksum the manifest recorded for an installed path, or nothing
recorded() {
	[ -f "$DESTDIR$MANIFEST" ] || return 0
	awk -v p="$1" '$2 == p { s = $1 } END { if (s) print s }' \
	    "$DESTDIR$MANIFEST"
}

# files we own outright: always replaced
put() {	# mode src dst
	install -d "$DESTDIR$(dirname "$3")"
	install -m "$1" "$2" "$DESTDIR$3"
	say "$3"
}

# files the sysadmin owns once installed (configs, capsule pages)
put_conf() {	# mode src dst dist(yes|no)
	mode=$1 src=$2 dst=$3 dist=$4 t=$DESTDIR$3
	install -d "$(dirname "$t")"
	new=$(sum "$src")
	if [ -e "$t" ]; then
		cur=$(sum "$t")
		old=$(recorded "$dst")
		if [ "$cur" != "$new" ] && [ "$cur" != "$old" ]; then
			if [ "$dist" = yes ]; then
				install -m "$mode" "$src" "$t.dist"
				say "$dst kept (edited); new version in $dst.dist"
			else
				echo "install.sh: warning: $dst kept (edited)" >&2
			fi
			echo "$new $dst" >> "$NEWMANIFEST.kept"
			return 0
		fi
	fi
	install -m "$mode" "$src" "$t"
	rm -f "$t.dist"
	echo "$new $dst" >> "$NEWMANIFEST"
	say "$dst"
}

# the installed configs point at installed paths; refuse to install one
# that still names a path relative to the source tree
gen_confs() {
	rm -rf "$GEN"
	mkdir -p "$GEN"
	sed -e "s|^\([[:space:]]*state-dir[[:space:]]*=[[:space:]]*\)\"[^\"]*\"|\1\"/var/lib/capsuled\"|" \
	    -e "s|^\([[:space:]]*root[[:space:]]*=[[:space:]]*\)\"capsule/*\"|\1\"$CAPSULEDIR\"|" \
	    etc/capsuled.conf > "$GEN/capsuled.conf"
	if [ -f etc/enquiry-milter.conf ]; then
		sed -e "s|^\([[:space:]]*socket[[:space:]]*=[[:space:]]*\)\"[^\"]*\"|\1\"$MILTER_SOCKET\"|" \
		    -e "s|^\([[:space:]]*state-dir[[:space:]]*=[[:space:]]*\)\"[^\"]*\"|\1\"/var/lib/enquiry-milter\"|" \
		    -e "s|^\([[:space:]]*socket-group[[:space:]]*=[[:space:]]*\)\"\"|\1\"postfix\"|" \
		    -e "s|\"etc/|\"$SYSCONFDIR/enquiry-milter/|g" \
		    etc/enquiry-milter.conf > "$GEN/enquiry-milter.conf"
	fi
	for f in "$GEN"/*.conf; do
		if grep -nE '^[[:space:]]*[a-z-]+[[:space:]]*=[[:space:]]*"(etc|var|capsule)(/|")' \
		    "$f" >&2; then
			die "$f: the lines above name paths inside the source tree"
		fi
	done
}

unit() {	# src dst: the unit with this install's paths
	sed -e "s|/usr/local/sbin/|$BINDIR/|g" \
	    -e "s|/usr/local/share/capsuled/capsule|$CAPSULEDIR|g" \
	    -e "s|/etc/capsuled.conf|$SYSCONFDIR/capsuled.conf|g" \
	    -e "s|/etc/enquiry-milter|$SYSCONFDIR/enquiry-milter|g" \
	    "$1" > "$GEN/$(basename "$1")"
	put 0644 "$GEN/$(basename "$1")" "$2"
}

do_install() {
	[ -x "$B/capsuled" ] || die "$B/capsuled is not built: run make"
	[ -x "$B/capsule-check" ] || die "$B/capsule-check is not built: run make"
	milter=no
	if [ -x "$B/enquiry-milter" ]; then
		milter=yes
	fi
	gen_confs
	NEWMANIFEST=$GEN/manifest
	: > "$NEWMANIFEST"
	: > "$NEWMANIFEST.kept"

	echo "installing into ${DESTDIR:-/}"
	put 0755 "$B/capsuled" "$BINDIR/capsuled"
	# a user's command: whoever writes the capsule checks it
	put 0755 "$B/capsule-check" "$USERBINDIR/capsule-check"
	if [ $milter = yes ]; then
		put 0755 "$B/enquiry-milter" "$BINDIR/enquiry-milter"
		# the case register's command, beside the milter it reads
		[ -x "$B/enquiries" ] && put 0755 "$B/enquiries" \
		    "$BINDIR/enquiries"
	fi

	put_conf 0644 "$GEN/capsuled.conf" "$SYSCONFDIR/capsuled.conf" yes
	# no .dist beside it: logrotate would read that one too
	put_conf 0644 contrib/logrotate/capsuled \
	    "$SYSCONFDIR/logrotate.d/capsuled" no
	if [ $milter = yes ] && [ -f "$GEN/enquiry-milter.conf" ]; then
		put_conf 0640 "$GEN/enquiry-milter.conf" \
		    "$SYSCONFDIR/enquiry-milter.conf" yes
		for sub in templates lists; do
			[ -d "etc/$sub" ] || continue
			find "etc/$sub" -type f | sort | while read -r f; do
				put_conf 0644 "$f" \
				    "$SYSCONFDIR/enquiry-milter/${f#etc/}" yes
			done
		done
	fi

	( cd capsule && find . -type f ! -name '.*' ) | sort |
	while read -r f; do
		put_conf 0644 "capsule/${f#./}" "$CAPSULEDIR/${f#./}" no
	done

	for m in contrib/man/*.[158]; do
		[ -f "$m" ] || continue
		sec=${m##*.}
		put 0644 "$m" "$MANDIR/man$sec/$(basename "$m")"
	done

	unit contrib/systemd/capsuled.service "$SYSTEMDUNITDIR/capsuled.service"
	put 0644 contrib/systemd/capsuled.sysusers "$SYSUSERSDIR/capsuled.conf"
	if [ $milter = yes ]; then
		unit contrib/systemd/enquiry-milter.service \
		    "$SYSTEMDUNITDIR/enquiry-milter.service"
		put 0644 contrib/systemd/enquiry-milter.sysusers \
		    "$SYSUSERSDIR/enquiry-milter.conf"
	fi

	for d in README.md contrib/postfix/main.cf.snippet \
	    contrib/sendmail/enquiry-milter.mc contrib/haproxy/haproxy.cfg; do
		if [ -f "$d" ]; then
			put 0644 "$d" "$DOCDIR/$(basename "$d")"
		fi
	done

	# the manifest: what was installed now, and the old record of files
	# kept as edited (so they still count as edited next time)
	install -d "$DESTDIR$(dirname "$MANIFEST")"
	cat "$NEWMANIFEST" > "$DESTDIR$MANIFEST.tmp"
	while read -r s p; do
		old=$(recorded "$p")
		if [ -n "$old" ]; then
			echo "$old $p" >> "$DESTDIR$MANIFEST.tmp"
		fi
	done < "$NEWMANIFEST.kept"
	mv "$DESTDIR$MANIFEST.tmp" "$DESTDIR$MANIFEST"

	if [ -z "$DESTDIR" ]; then
		cat <<EOF

next steps (as root):
  systemd-sysusers            # the capsuled (and enquiry-milter) users
  systemctl daemon-reload
  $BINDIR/capsuled -n -c $SYSCONFDIR/capsuled.conf
  systemctl enable --now capsuled
see capsuled(8), and enquiry-milter(8) for attaching the milter to Postfix.
EOF
	fi
}

rm_file() {
	if [ -e "$DESTDIR$1" ] || [ -L "$DESTDIR$1" ]; then
		rm -f "$DESTDIR$1"
		say "removed $1"
	fi
}

do_uninstall() {
	echo "uninstalling from ${DESTDIR:-/}"
	rm_file "$BINDIR/capsuled"
	rm_file "$USERBINDIR/capsule-check"
	rm_file "$BINDIR/enquiry-milter"
	rm_file "$BINDIR/enquiries"
	for m in capsuled.8 capsuled.conf.5 capsule-check.1 enquiry-milter.8 \
	    enquiry-milter.conf.5 enquiries.8; do
		rm_file "$MANDIR/man${m##*.}/$m"
	done
	rm_file "$SYSTEMDUNITDIR/capsuled.service"
	rm_file "$SYSTEMDUNITDIR/enquiry-milter.service"
	rm_file "$SYSUSERSDIR/capsuled.conf"
	rm_file "$SYSUSERSDIR/enquiry-milter.conf"
	for d in README.md main.cf.snippet enquiry-milter.mc haproxy.cfg; do
		rm_file "$DOCDIR/$d"
	done

	# configs and capsule pages: only what is as installed
	if [ -f "$DESTDIR$MANIFEST" ]; then
		while read -r s p; do
			t=$DESTDIR$p
			rm -f "$t.dist"
			[ -e "$t" ] || continue
			if [ "$(sum "$t")" = "$s" ]; then
				rm -f "$t"
				say "removed $p"
			else
				echo "install.sh: $p kept (edited)" >&2
			fi
		done < "$DESTDIR$MANIFEST"
		rm -f "$DESTDIR$MANIFEST"
	fi

	# empty directories we made, deepest first
	for d in "$CAPSULEDIR" "$DATADIR/capsuled" "$DOCDIR" \
	    "$SYSCONFDIR/enquiry-milter/templates" \
	    "$SYSCONFDIR/enquiry-milter/lists" "$SYSCONFDIR/enquiry-milter"; do
		[ -d "$DESTDIR$d" ] || continue
		find "$DESTDIR$d" -depth -type d -empty -delete 2>/dev/null || :
	done
}

case "${1:-}" in
install) do_install ;;
uninstall) do_uninstall ;;
*) die "usage: $0 install|uninstall" ;;
esac
