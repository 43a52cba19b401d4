#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# meson install: create the daemon's user and group (kvm) from the sysusers.d file just
# installed. Nothing to do when installing into a DESTDIR (a package): systemd-sysusers
# runs from the package's own scripts, or at boot.
set -eu
conf="$1"
if [ -n "${DESTDIR:-}" ]; then
	echo "install-sysusers: DESTDIR set: run 'systemd-sysusers $conf' on the target"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v systemd-sysusers >/dev/null; then
	echo "install-sysusers: not root or no systemd-sysusers: create the user with" \
		"'systemd-sysusers $conf' (or useradd --system --gid kvm vhost-balloon)"
	exit 0
fi
systemd-sysusers "$conf"
