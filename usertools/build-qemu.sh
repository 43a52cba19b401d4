#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the QEMU the qemu test suite runs: Debian's QEMU 10.0.2 source (bookworm-backports)
# with one change, the generic vhost-user device made user-creatable, so that
# "-device vhost-user-device-pci,virtio-id=5,..." can front our balloon backend.
# Only x86_64-softmmu, TCG (and KVM where the host has it), vhost-user; no GUI, no docs.
# Firmware comes from Debian's qemu-system-data, seabios and ipxe-qemu packages.
#
#   usertools/build-qemu.sh        build (or reuse) and print the install prefix
#
# Installed under $VHB_CACHE (default /var/cache/vhost-balloon), outside the repo:
#   $VHB_CACHE/qemu-10.0.2/bin/qemu-system-x86_64
# A finished install is reused; delete the folder to rebuild. Needs root for apt-get.
set -eu

QEMU_UPSTREAM=10.0.2
QEMU_DEBVER=1:10.0.2+ds-2+deb13u1~bpo12+1
ORIG=qemu_${QEMU_UPSTREAM}+ds.orig.tar.xz
CACHE=${VHB_CACHE:-/var/cache/vhost-balloon}
PREFIX=$CACHE/qemu-$QEMU_UPSTREAM
SRCDIR=$CACHE/src
FIRMWAREPATH=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu

log() { echo "build-qemu: $*" >&2; }

if [ -x "$PREFIX/bin/qemu-system-x86_64" ] && [ -f "$PREFIX/.complete" ]; then
	log "reusing $PREFIX"
	echo "$PREFIX"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	log "not root: cannot install the build packages (run as root)"
	exit 1
fi

# bookworm-backports: binaries for meson 1.7, sources for QEMU 10.0.2.
export DEBIAN_FRONTEND=noninteractive
bpo=/etc/apt/sources.list.d/vhost-balloon-bookworm-backports.sources
if [ ! -f "$bpo" ]; then
	log "adding bookworm-backports (deb, deb-src) in $bpo"
	cat > "$bpo" <<-SRC
	Types: deb deb-src
	URIs: http://deb.debian.org/debian
	Suites: bookworm-backports
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	SRC
	apt-get update -qq
fi
sources() { compgen -G '/var/lib/apt/lists/*bookworm-backports_main_source_Sources*' | head -n 1; }
[ -n "$(sources)" ] || apt-get update -qq

log "installing build packages"
apt-get install -y -qq --no-install-recommends -t bookworm-backports meson python3-pycotap >/dev/null
apt-get install -y -qq --no-install-recommends \
	gcc make ninja-build pkg-config python3 python3-venv xz-utils dpkg-dev \
	libglib2.0-dev zlib1g-dev libfdt-dev libpixman-1-dev flex bison \
	qemu-system-data seabios ipxe-qemu >/dev/null
log "meson $(meson --version)"

# The orig tarball, checked against the sha256 in the Sources index.
mkdir -p "$SRCDIR"
cd "$SRCDIR"
index=$(sources)
want=$(awk -v ver="$QEMU_DEBVER" -v f="$ORIG" '
	/^Package: / { pkg = $2 } /^Version: / { v = $2 }
	/^Checksums-Sha256:/ { in_sum = 1; next } /^[^ ]/ { in_sum = 0 }
	in_sum && pkg == "qemu" && v == ver && $3 == f { print $1 }' \
	<(/usr/lib/apt/apt-helper cat-file "$index"))
if [ -z "$want" ]; then
	log "no sha256 for $ORIG ($QEMU_DEBVER) in $index"
	exit 1
fi
if [ ! -f "$ORIG" ] || [ "$(sha256sum "$ORIG" | cut -d' ' -f1)" != "$want" ]; then
	rm -f "$ORIG"
	log "fetching $ORIG with apt-get source"
	# The .dsc or the debian tarball may be missing from the mirror; the orig is enough.
	apt-get source --download-only "qemu=$QEMU_DEBVER" >/dev/null 2>&1 || true
	[ -f "$ORIG" ] || { log "apt-get source did not fetch $ORIG"; exit 1; }
fi
got=$(sha256sum "$ORIG" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	log "sha256 mismatch for $ORIG: $got, Sources index says $want"
	exit 1
fi
log "$ORIG sha256 $got matches the Sources index"

src=$SRCDIR/qemu-$QEMU_UPSTREAM
rm -rf "$src"
mkdir "$src"
tar -xf "$ORIG" -C "$src" --strip-components=1

# The one change: let "-device vhost-user-device[-pci]" be created from the command line.
for f in hw/virtio/vhost-user-device.c hw/virtio/vhost-user-device-pci.c; do
	grep -q 'dc->user_creatable = false;' "$src/$f" || { log "$f: no user_creatable line"; exit 1; }
	sed -i 's/dc->user_creatable = false;/dc->user_creatable = true;/' "$src/$f"
	grep -q 'dc->user_creatable = true;' "$src/$f"
done

# The +ds tarball has no pc-bios/edk2-*.fd.bz2, and meson setup schedules their unpacking
# for x86_64 whenever it finds bzip2, whatever --disable-install-blobs says. We take our
# firmware from Debian's packages, so turn the unpacking off.
grep -q 'unpack_edk2_blobs = bzip2.found()' "$src/meson.build" ||
	{ log "meson.build: edk2 unpacking not where expected"; exit 1; }
sed -i 's/unpack_edk2_blobs = bzip2.found()/unpack_edk2_blobs = false/' "$src/meson.build"

log "configuring in $src/build"
cd "$src"
nice -n 10 ./configure --prefix="$PREFIX" --target-list=x86_64-softmmu --python=/usr/bin/python3 \
	--firmwarepath="$FIRMWAREPATH" \
	--without-default-features --enable-tcg --enable-kvm --enable-vhost-user \
	--enable-vhost-kernel --enable-fdt=system \
	--disable-docs --disable-install-blobs --disable-werror >configure.log 2>&1 || {
	tail -n 40 configure.log >&2
	exit 1
}
log "building (log: $src/build/build.log)"
nice -n 10 make -C build -j"$(nproc)" >build/build.log 2>&1 || { tail -n 40 build/build.log >&2; exit 1; }
make -C build install >build/install.log 2>&1 || { tail -n 40 build/install.log >&2; exit 1; }
"$PREFIX/bin/qemu-system-x86_64" -device help | grep -q '"vhost-user-device-pci"' || {
	log "built QEMU has no vhost-user-device-pci"
	exit 1
}
echo "$QEMU_DEBVER user_creatable vhost-user-device" > "$PREFIX/.complete"
# The build tree is 1.4 GB; the tarball stays for a rebuild.
cd "$SRCDIR"
rm -rf "$src"
log "installed $PREFIX"
echo "$PREFIX"
