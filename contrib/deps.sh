#!/bin/sh
# install the Debian packages a make target needs, or say which are missing.
# usage: contrib/deps.sh [--check] build|run|test|bench|fuzz ...
# --check only says what is missing (plain make installs nothing)
set -u
check=
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi

pkgs_build="gcc make pkg-config libssl-dev libconfuse-dev libmilter-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev"
# the clients the README's examples after `make run` use
pkgs_run="openssl curl netcat-openbsd"
pkgs_test="openssl python3 python3-cryptography gnutls-bin curl netcat-openbsd finger postfix swaks miltertest haproxy mandoc systemd logrotate postgresql strace"
pkgs_bench="molly-brown"
pkgs_fuzz="clang libclang-rt-dev"

want=""
for group in "$@"; do
	case "$group" in
	build) want="$want $pkgs_build" ;;
	run) want="$want $pkgs_build $pkgs_run" ;;
	test) want="$want $pkgs_build $pkgs_test" ;;
	bench) want="$want $pkgs_build $pkgs_bench" ;;
	fuzz) want="$want $pkgs_build $pkgs_fuzz" ;;
	*) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ -n "$check" ] || [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "missing packages:$missing" >&2
	echo "install them with: sudo apt-get install -y$missing" >&2
	[ -z "$check" ] || echo "(make run, make test and make fuzz install them when run as root)" >&2
	exit 1
fi

echo "installing:$missing" >&2
# postfix asks questions unless told the answers first
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null; then
	apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null || {
		echo "deps.sh: apt-get install failed for:$missing" >&2
		exit 1
	}
fi
