#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of a sparse that Linux 7.3 accepts.  Debian 12's sparse
# (0.6.4) lacks __typeof_unqual__, so the kernel refuses it for C=1; sid's
# source package has it.  Fetch that source with a private apt source list
# (the system's apt configuration is not touched), build it once, and keep
# it in ${XDG_CACHE_HOME:-$HOME/.cache}/vramsim/sparse.
set -euo pipefail
ksrc=${1:?usage: $0 KSRC}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vramsim
bin=$cache/sparse/sparse

valid() { [ "$(bash "$ksrc/scripts/checker-valid.sh" "$1" -m64 2>/dev/null)" = 1 ]; }

if command -v sparse >/dev/null && valid "$(command -v sparse)"; then
	command -v sparse
	exit 0
fi
if [ -x "$bin" ] && valid "$bin"; then
	echo "$bin"
	exit 0
fi

. "$(dirname "$0")/debian-apt.sh"
apt=$cache/apt-src
mkdir -p "$cache/sparse"
private_apt "$apt" deb-src sid || exit 1
mirror=$apt_mirror
opts=("${apt_opts[@]}")
echo "==> Building sparse from Debian sid's source package (once; kept in $cache/sparse)" >&2
apt-get -q "${opts[@]}" update >/dev/null 2>&1 || { echo "fetch-sparse: apt-get update failed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get -q "${opts[@]}" source --download-only sparse >/dev/null 2>&1) ||
	{ echo "fetch-sparse: could not download sparse's source from sid at $mirror" >&2; exit 1; }
mkdir "$tmp/src"
tar -xf "$tmp"/sparse_*.orig.tar.* -C "$tmp/src" --strip-components=1
make -s -C "$tmp/src" -j"$(nproc)" HAVE_LIBXML=no HAVE_GTK=no HAVE_LLVM=no HAVE_SQLITE=no \
	sparse > "$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
cp "$tmp/src/sparse" "$bin"
valid "$bin" || { echo "fetch-sparse: the sparse built from sid is not accepted by $ksrc either" >&2; exit 1; }
echo "$bin"
