#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Obtain Linux 7.3 sources from Debian's linux-source-7.3 package and unpack
# them into a disposable tree.  The system's apt configuration is never
# touched: a private sources file and lists directory live in the cache.
#
# Usage: fetch-kernel.sh DESTDIR
#   Unpacks the kernel into DESTDIR (e.g. build/linux) unless it already holds
#   a tree.  The .deb is cached in ${XDG_CACHE_HOME:-$HOME/.cache}/vramsim.
#
# Environment:
#   VRAMSIM_KVER     package version to fetch (default 7.3)
#   VRAMSIM_SUITES   Debian suites to search (default "trixie-backports sid experimental")
#   VRAMSIM_MIRROR   mirror URI (default: read from the system's sources)
set -euo pipefail

dest=${1:?usage: $0 DESTDIR}
kver=${VRAMSIM_KVER:-7.3}
suites=${VRAMSIM_SUITES:-trixie-backports sid experimental}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vramsim
pkg=linux-source-$kver

msg() { printf '==> %s\n' "$*"; }
die() { printf 'fetch-kernel: %s\n' "$*" >&2; exit 1; }

if [ -f "$dest/Makefile" ] && [ -f "$dest/drivers/gpu/buddy.c" ]; then
	exit 0
fi

. "$(dirname "$0")/debian-apt.sh"

mkdir -p "$cache"
deb=$(ls -1 "$cache"/${pkg}_*.deb 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$deb" ]; then
	apt="$cache/apt"
	private_apt "$apt" deb "$suites" || die "cannot set up a private apt source list"
	mirror=$apt_mirror
	opts=("${apt_opts[@]}")
	msg "Fetching package lists for $suites from $mirror (private list dir $apt)"
	apt-get -q "${opts[@]}" update >"$apt/update.log" 2>&1 ||
		die "apt-get update failed for suites '$suites' at $mirror; see $apt/update.log"
	msg "Downloading $pkg (about 170 MB, cached in $cache)"
	(cd "$cache" && apt-get -q "${opts[@]}" download "$pkg") >"$apt/download.log" 2>&1 ||
		die "could not download $pkg from suites '$suites' at $mirror (see $apt/download.log).
  Is a $pkg package in one of those suites? Try VRAMSIM_SUITES=..., or pass KSRC=/path/to/linux-7.x."
	deb=$(ls -1 "$cache"/${pkg}_*.deb | sort -V | tail -n1)
fi

msg "Unpacking $(basename "$deb") into $dest"
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "${dest%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C "$tmp" ./usr/src/
tarball=$(ls "$tmp"/usr/src/linux-source-*.tar.* | head -n1)
[ -n "$tarball" ] || die "$deb holds no linux-source tarball"
mkdir -p "$tmp/tree"
tar -xf "$tarball" -C "$tmp/tree" --strip-components=1
rm -f "$tarball"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp/tree" "$dest"
msg "Linux $(make -s -C "$dest" kernelversion 2>/dev/null || echo '?') ready in $dest"
