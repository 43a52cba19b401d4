#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the qemu suite's test guest: Debian's linux-image-amd64 kernel and a small busybox
# initramfs (test/qemu/guest/init, the virtio_balloon and virtio_pci modules with their
# dependencies, and test/qemu/guest/memfill.c built statically).
#
#   usertools/build-guest.sh           build (or reuse) and print the guest's folder
#   usertools/build-guest.sh --check   print the folder if it is built, else exit 1
#
# Installed under $VHB_CACHE (default /var/cache/vhost-balloon), outside the repo:
#   $VHB_CACHE/guest-<kernel>-<hash of the inputs>/{vmlinuz,initramfs.gz}
# The kernel and busybox packages are downloaded and unpacked, not installed.
set -eu

cd "$(dirname "$0")/.."
top=$PWD
CACHE=${VHB_CACHE:-/var/cache/vhost-balloon}
MODULES="virtio_pci virtio_balloon"
check=0
[ "${1:-}" = "--check" ] && check=1

log() { echo "build-guest: $*" >&2; }

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$kpkg" ]; then
	log "cannot resolve linux-image-amd64 (apt-get update?)"
	exit 1
fi
kver=${kpkg#linux-image-}
inputs=$(cat "$0" test/qemu/guest/init test/qemu/guest/memfill.c | sha256sum | cut -c1-12)
out=$CACHE/guest-$kver-$inputs
if [ -f "$out/.complete" ]; then
	[ "$check" -eq 1 ] || log "reusing $out"
	echo "$out"
	exit 0
fi
if [ "$check" -eq 1 ]; then
	log "not built: $out"
	exit 1
fi

missing=""
for p in gcc libc6-dev kmod cpio gzip; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || { log "missing:$missing (run as root to install them)"; exit 1; }
	log "installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
log "downloading $kpkg and busybox-static"
apt-get download "$kpkg" busybox-static >/dev/null 2>&1 || {
	apt-get update -qq
	apt-get download "$kpkg" busybox-static >/dev/null
}
dpkg-deb -x ./"$kpkg"_*.deb kernel
dpkg-deb -x ./busybox-static_*.deb busybox

root=$work/root
mkdir -p "$root/bin" "$root/lib/modules"
cp busybox/bin/busybox "$root/bin/busybox"
install -m 0755 "$top/test/qemu/guest/init" "$root/init"
gcc -O2 -static -Wall -Wextra -Werror -o "$root/bin/memfill" "$top/test/qemu/guest/memfill.c"

# The modules in load order, dependencies first (depmod on the unpacked tree).
depmod -b kernel "$kver"
for m in $MODULES; do
	modprobe -d kernel -S "$kver" --show-depends "$m"
done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' | while read -r ko; do
	base=$(basename "$ko")
	case "$ko" in
	*.ko) cp "$ko" "$root/lib/modules/$base" ;;
	*.ko.xz) xz -dc "$ko" >"$root/lib/modules/${base%.xz}"; base=${base%.xz} ;;
	*) log "unexpected module file $ko"; exit 1 ;;
	esac
	echo "$base" >>"$root/lib/modules/load"
done
log "modules: $(tr '\n' ' ' <"$root/lib/modules/load")"

mkdir -p "$out.tmp"
cp kernel/boot/vmlinuz-"$kver" "$out.tmp/vmlinuz"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -9 >"$out.tmp/initramfs.gz"
echo "$kpkg" >"$out.tmp/.complete"
rm -rf "$out"
mv "$out.tmp" "$out"
log "built $out"
echo "$out"
