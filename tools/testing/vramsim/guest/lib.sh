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
