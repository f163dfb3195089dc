# SPDX-License-Identifier: GPL-2.0
# Shared by vramsim's guest scripts: where the driver shows up.

VRAMSIM_DEBUGFS=/sys/kernel/debug/dri/vramsim

# The DRM nodes of the vramsim device, e.g. "card0 renderD128".
vramsim_drm_nodes() {
	ls /sys/devices/faux/vramsim/drm 2>/dev/null | tr '\n' ' '
}

vramsim_render_node() {
	local n
	for n in $(vramsim_drm_nodes); do
		case "$n" in renderD*) echo "/dev/dri/$n"; return 0 ;; esac
	done
	return 1
}

# The prepare policies of the running kernel, default first: "driver
# alloc", or "core" alone on a kernel whose core resets freed device
# folios (VARIANT=core).  Loads vramsim for a moment if it is not loaded.
vramsim_policies() {
	local p loaded=1
	if [ ! -d /sys/module/vramsim ]; then
		loaded=0
		modprobe vramsim vram_size=2M || return 1
	fi
	p=$(cat /sys/module/vramsim/parameters/prepare)
	[ $loaded = 1 ] || rmmod vramsim
	case "$p" in
	core) echo core ;;
	*) echo driver alloc ;;
	esac
}
