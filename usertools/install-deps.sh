# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the demo and the test runner: install the Debian 12 packages the
# build and tests need, only if something is missing.

VHB_PACKAGES="gcc clang libclang-rt-14-dev meson ninja-build pkg-config libdpdk-dev dpdk-dev libnuma-dev"
# The unit tests (test/app/test_unit.py, unitsandbox.py): systemd-analyze, libseccomp.
VHB_PACKAGES="$VHB_PACKAGES systemd libseccomp2"

vhb_install_deps() {
	local missing=""
	local p
	for p in $VHB_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
}
