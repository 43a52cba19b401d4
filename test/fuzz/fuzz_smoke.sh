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
"$exe" -runs="$runs" -seed=1 -timeout=20 -print_final_stats=1 "$tmp" "$corpus"
