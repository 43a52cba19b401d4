#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Bounded libFuzzer smoke run: fuzz_smoke.sh <harness> <corpus dir> <runs>
# New inputs go to a temporary dir (first corpus dir); the checked-in corpus is
# only read. Fails on any crash, leak, timeout or broken invariant.
set -eu
exe=$1
corpus=$2
runs=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vhb-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# libFuzzer's own exit codes (77 for a crash or leak, 70 for a timeout) would read as
# "skipped" to meson (77): make every finding a plain failure.
"$exe" -runs="$runs" -seed=1 -timeout=20 -error_exitcode=1 -timeout_exitcode=1 \
	-print_final_stats=1 "$tmp" "$corpus"
