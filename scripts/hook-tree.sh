#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hook vramsim into a kernel source tree so that it builds in-tree, exactly
# as it would upstream: symlink the driver directory and the uapi header,
# add one "source" line to drivers/gpu/drm/Kconfig and one obj- line to
# drivers/gpu/drm/Makefile.  Idempotent.  Usage: hook-tree.sh KSRC REPO
set -euo pipefail

ksrc=$1
repo=$2

[ -f "$ksrc/drivers/gpu/drm/Kconfig" ] ||
	{ echo "hook-tree: $ksrc does not look like a kernel tree" >&2; exit 1; }

link() {
	if [ "$(readlink "$2" 2>/dev/null)" != "$1" ]; then
		rm -rf "$2"
		ln -s "$1" "$2"
	fi
}

link "$repo/drivers/gpu/drm/vramsim" "$ksrc/drivers/gpu/drm/vramsim"
link "$repo/include/uapi/drm/vramsim_drm.h" "$ksrc/include/uapi/drm/vramsim_drm.h"

# The repository's top-level Kconfig is the one entry point for its options.
kline="source \"$repo/Kconfig\""
grep -qxF "$kline" "$ksrc/drivers/gpu/drm/Kconfig" || {
	# Next to vgem, inside the "if DRM" block; at the end if vgem moved.
	awk -v line="$kline" '
		$0 == line { next }
		{ print }
		/^source "drivers\/gpu\/drm\/vgem\/Kconfig"/ { print line; done = 1 }
		END { if (!done) print line }' \
		"$ksrc/drivers/gpu/drm/Kconfig" > "$ksrc/drivers/gpu/drm/Kconfig.new"
	mv "$ksrc/drivers/gpu/drm/Kconfig.new" "$ksrc/drivers/gpu/drm/Kconfig"
	echo "==> Hooked vramsim into $ksrc/drivers/gpu/drm/Kconfig"
}
mline='obj-$(CONFIG_DRM_VRAMSIM) += vramsim/'
grep -qxF "$mline" "$ksrc/drivers/gpu/drm/Makefile" || {
	printf '%s\n' "$mline" >> "$ksrc/drivers/gpu/drm/Makefile"
	echo "==> Hooked vramsim into $ksrc/drivers/gpu/drm/Makefile"
}
