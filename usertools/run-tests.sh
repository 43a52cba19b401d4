#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what the build needs, build with warnings as errors, set up hugepages and
# run the test suites. The README's test command; CI runs exactly this.
#
#   usertools/run-tests.sh [--sanitize] [-- meson test args...]
#
#   --sanitize   build in build-asan with clang, ASan+UBSan and the libFuzzer
#                harnesses, and run the suites there (fuzz smoke runs included)
#
# The last line is "tests: N passed, N failed, N skipped".
set -eu

cd "$(dirname "$0")/.."
top=$PWD

sanitize=0
while [ $# -gt 0 ]; do
	case "$1" in
	--sanitize) sanitize=1 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--sanitize] [-- meson test args...]" >&2; exit 2 ;;
	esac
	shift
done

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		exec sudo -E "$0" "$@"
	fi
	echo "run-tests: not root: packages and hugepages are left as they are" >&2
fi

# shellcheck source=usertools/install-deps.sh
. usertools/install-deps.sh
vhb_install_deps

usertools/setup-hugepages.sh "${VHB_HUGEPAGES:-1024}"

if [ "$sanitize" -eq 1 ]; then
	build=build-asan
	# distro DPDK is not ASan-aware; tests keep their own allocations in libc.
	export CC=clang
	setup_args=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
		-Dc_args=-fno-sanitize-recover=undefined -Dfuzz=true)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_odr_violation=0}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
	build=build
	setup_args=()
fi

if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" -Dwerror=true "${setup_args[@]}" >/dev/null
else
	meson setup "$build" -Dwerror=true "${setup_args[@]}"
fi
ninja -C "$build"

set +e
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
rc=$?
set -e

# meson's summary is above; one plain line for tools that read the last line.
log="$build/meson-logs/testlog.txt"
count() { awk -v k="$1" '$0 ~ "^"k":" { n = $NF } END { print n + 0 }' "$log"; }
passed=$(count Ok)
failed=$(( $(count Fail) + $(count Timeout) + $(count "Unexpected Pass") ))
skipped=$(count Skipped)
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
