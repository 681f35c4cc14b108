#!/bin/sh
# what `make run` needs besides the build: the unprivileged user capsuled
# drops to when started as root. certificates are made by capsuled itself.
set -eu
user=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' etc/capsuled.conf | head -n 1)
if [ "$(id -u)" -eq 0 ] && [ -n "$user" ] && ! id "$user" >/dev/null 2>&1; then
	echo "creating the system user $user for capsuled to drop to" >&2
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$user"
fi
echo "serving gemini://localhost/ (Ctrl-C stops)" >&2
