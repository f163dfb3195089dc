#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages vramsim's build, guest and tests need, if any
# is missing.  Nothing is done when everything is already there.
set -euo pipefail

# command-or-file -> package
deps=(
	gcc:gcc make:make bison:bison flex:flex bc:bc perl:perl
	python3:python3 cpio:cpio xz:xz-utils depmod:kmod ccache:ccache patch:patch
	sparse:sparse rsync:rsync dpkg-deb:dpkg apt-get:apt
	qemu-system-x86_64:qemu-system-x86
	/usr/share/qemu/qboot.rom:qemu-system-data
	/bin/busybox:busybox-static
	/usr/include/libelf.h:libelf-dev
	/usr/include/openssl/ssl.h:libssl-dev
	gnuplot:gnuplot-nox
	perf:linux-perf
	/usr/share/keyrings/debian-archive-keyring.gpg:debian-archive-keyring
)

need=()
for d in "${deps[@]}"; do
	what=${d%%:*}
	pkg=${d#*:}
	case "$what" in
	/*) [ -e "$what" ] && continue ;;
	*) command -v "$what" >/dev/null 2>&1 && continue ;;
	esac
	need+=("$pkg")
done
# A dynamic busybox is no good in the guest's initramfs.
if [ -e /bin/busybox ] && ldd /bin/busybox >/dev/null 2>&1; then
	need+=(busybox-static)
fi

[ ${#need[@]} -eq 0 ] && exit 0

mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo "==> Installing missing host packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/vramsim-apt.log 2>&1; then
	echo "==> Refreshing the package lists (apt-get update)"
	$sudo apt-get update -q >/tmp/vramsim-apt.log 2>&1 ||
		{ echo "install-deps: apt-get update failed, see /tmp/vramsim-apt.log" >&2; exit 1; }
	$sudo apt-get install -y -q --no-install-recommends "${need[@]}" >/tmp/vramsim-apt.log 2>&1 ||
		{ echo "install-deps: could not install ${need[*]}, see /tmp/vramsim-apt.log" >&2; exit 1; }
fi
echo "==> Host packages ready"
