#!/bin/sh
# what `make run` needs besides the build: the clients the README's
# examples use (openssl, curl, nc), and the unprivileged user capsuled
# drops to when started as root. certificates are made by capsuled itself.
set -eu
cd "$(dirname "$0")/.."
# capsuled runs without them: a missing one is said, not fatal
contrib/deps.sh run || echo "run-setup: the README's examples need the" \
	"packages above; capsuled starts anyway" >&2
user=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' etc/capsuled.conf | head -n 1)
if [ "$(id -u)" -eq 0 ] && [ -n "$user" ] && ! id "$user" >/dev/null 2>&1; then
	echo "creating the system user $user for capsuled to drop to" >&2
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$user"
fi
echo "serving gemini://localhost/ (Ctrl-C stops)" >&2
