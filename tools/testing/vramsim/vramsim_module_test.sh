#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module-level tests of vramsim, in the guest, as TAP: load and unload,
# DRM nodes, debugfs (vram, stats, bench), module parameters (good and
# bad), no leak on unload.
set -u
. "$(dirname "$0")/guest/lib.sh"

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; shift; for m in "$@"; do echo "# $m"; done; }
check() { local name=$1; shift; if "$@" >/tmp/check.out 2>&1; then ok "$name"; else not_ok "$name" "$(tail -n3 /tmp/check.out)"; fi; }

loaded() { [ -d /sys/module/vramsim ]; }
unload() { ! loaded || rmmod vramsim; }

# Kernel messages since the mark, to check what a step printed.
mark() { dmesg -c >/dev/null; }

echo "TAP version 13"
echo "1..29"

unload
mark
check "modprobe vramsim" modprobe vramsim
node=$(vramsim_render_node)
if [ -n "$node" ] && [ -c "$node" ] && vramsim_drm_nodes | grep -q card; then
	ok "DRM card and render node exist ($(vramsim_drm_nodes))"
else
	not_ok "DRM card and render node exist" "nodes: $(vramsim_drm_nodes)"
fi
check "debugfs vram file readable" sh -c "grep -q 'chunk_size: 4KiB, total: 512MiB, free: 512MiB' $VRAMSIM_DEBUGFS/vram"
check "default vram_size is 512M" sh -c '[ "$(cat /sys/module/vramsim/parameters/vram_size)" = 536870912 ]'
# driver, or core on a kernel whose core resets freed folios (VARIANT=core).
default=$(cat /sys/module/vramsim/parameters/prepare 2>/dev/null)
check "default prepare is driver (core on a core-reset kernel): $default" \
	sh -c "[ '$default' = driver ] || [ '$default' = core ]"
# The counters (uapi 1.x's STATS ioctl): every key in order, one per line.
keys="prepare vram_size vram_free pending_frees splits live_folios allocs frees"
keys="$keys evictions evicted_bytes evict_skipped evict_no_ram evict_split peer_bytes device"
check "debugfs stats file: every key, the defaults, device 0" sh -c "
	f=$VRAMSIM_DEBUGFS/stats
	[ \"\$(cut -d: -f1 \$f | tr '\n' ' ')\" = '$keys ' ] &&
	grep -qx 'prepare: $default' \$f && grep -qx 'vram_size: 536870912' \$f &&
	grep -qx 'vram_free: 536870912' \$f && grep -qx 'pending_frees: 0' \$f &&
	grep -qx 'live_folios: 0 0 0 0 0 0 0 0 0 0' \$f && grep -qx 'device: 0' \$f &&
	[ \$(grep -c '^[a-z_]*: [0-9][0-9 ]*\$' \$f) = 14 ]"
check "in-kernel alloc/free of 512 order-0 and 8 order-9 folios" sh -c "
	echo '0 512' > $VRAMSIM_DEBUGFS/bench && echo '9 8' > $VRAMSIM_DEBUGFS/bench &&
	grep -q 'free: 512MiB' $VRAMSIM_DEBUGFS/vram"
# The bench runs on a private VRAM instance: the device's own counters and
# buddy never see it (it used to borrow the device's VRAM and flip its
# free-time policy under its users).
check "bench leaves the device's VRAM and policy alone" sh -c "
	before=\$(grep -A11 '^order' $VRAMSIM_DEBUGFS/vram) &&
	stats=\$(cat $VRAMSIM_DEBUGFS/stats) &&
	echo '0 64' > $VRAMSIM_DEBUGFS/bench && echo '9 2' > $VRAMSIM_DEBUGFS/bench &&
	after=\$(grep -A11 '^order' $VRAMSIM_DEBUGFS/vram) &&
	[ \"\$before\" = \"\$after\" ] && grep -q 'prepare=$default' $VRAMSIM_DEBUGFS/vram &&
	[ \"\$stats\" = \"\$(cat $VRAMSIM_DEBUGFS/stats)\" ]"
check "bad bench input fails with EINVAL" sh -c "
	for v in 'x' '10 1' '0 0' '9 100000000' '0'; do
		if /bin/echo \"\$v\" 2>/tmp/bench.err > $VRAMSIM_DEBUGFS/bench; then exit 1; fi
		grep -q 'Invalid argument' /tmp/bench.err || exit 1
	done"
check "rmmod vramsim" rmmod vramsim
check "unload left nothing behind (no error, no leak)" sh -c '! dmesg | grep -E "vramsim.*(leak|still in use|error)|WARNING|BUG"'
check "modprobe again after rmmod" modprobe vramsim
check "rmmod again" rmmod vramsim

# bad_params ERRTEXT MESSAGE NAME=VALUE...: each "modprobe vramsim
# NAME=VALUE" fails with the error whose text has ERRTEXT, and the kernel
# log has "vramsim: NAME=VALUE" followed by MESSAGE.  Sets $bad to what
# did not.
bad_params() {
	local err=$1 msg=$2 v
	shift 2
	bad=
	for v in "$@"; do
		mark
		if modprobe vramsim "$v" 2>/tmp/mp.err; then
			bad="$bad $v(accepted)"
			rmmod vramsim
		elif ! grep -q "$err" /tmp/mp.err; then
			bad="$bad $v(not '$err': $(cat /tmp/mp.err))"
		elif ! dmesg | grep -qF "vramsim: $v$msg"; then
			bad="$bad $v(no message)"
		fi
	done
}

# Bad parameters fail the load with EINVAL and a readable message.
bad_params 'Invalid argument' '' vram_size=0 vram_size=1M vram_size=3M \
	vram_size=100000 vram_size=65G vram_size=abc vram_size=512Q
if [ -z "$bad" ]; then
	ok "bad vram_size values fail with EINVAL and a message (0 1M 3M 100000 65G abc 512Q)"
else
	not_ok "bad vram_size values fail with EINVAL and a message" "wrong:$bad"
fi
# memparse() wraps at 2^64: 18446744073713745920 is 2^64 + 4M, and read
# as 4M it would load.  Sizes that overflow fail with ERANGE instead.
bad_params 'out of range' ': a size does not fit' vram_size=18446744073713745920 \
	vram_size=16777216T vram_size=0x10000000000400000 vram_size=99999999999999999999999M
if [ -z "$bad" ]; then
	ok "vram_size values past 2^64 fail with ERANGE and a message, not wrapped"
else
	not_ok "vram_size values past 2^64 fail with ERANGE and a message" "wrong:$bad"
fi
check "vram_size=0x4000000 (hexadecimal) loads as 64M" sh -c 'modprobe vramsim vram_size=0x4000000 &&
	[ "$(cat /sys/module/vramsim/parameters/vram_size)" = 67108864 ] && rmmod vramsim'
mark
if modprobe vramsim prepare=sometimes 2>/dev/null; then
	not_ok "prepare=sometimes rejected"
	rmmod vramsim
else
	check "prepare=sometimes rejected with a message" sh -c 'dmesg | grep -q "prepare=sometimes: must be"'
fi
# The policies a kernel does not have are refused with a message; the old
# names (scrub, none) still load, as driver and alloc, where those exist.
refused=core
[ "$default" = core ] && refused=none
mark
if modprobe vramsim prepare=$refused 2>/tmp/mp.err; then
	not_ok "prepare=$refused refused on this kernel"
	rmmod vramsim
else
	check "prepare=$refused refused on this kernel, EINVAL and a message" sh -c \
		"grep -q 'Invalid argument' /tmp/mp.err && dmesg | grep -q 'vramsim: prepare=$refused: this kernel'"
fi
if [ "$default" = core ]; then
	check "vram_size=64M prepare=core loads" sh -c 'modprobe vramsim vram_size=64M prepare=core &&
		grep -q "total: 64MiB" '"$VRAMSIM_DEBUGFS"'/vram'
	check "in-kernel alloc/free with prepare=core" sh -c "echo '9 32' > $VRAMSIM_DEBUGFS/bench && echo '0 2048' > $VRAMSIM_DEBUGFS/bench"
else
	check "vram_size=64M prepare=none (the old name) loads as alloc" sh -c 'modprobe vramsim vram_size=64M prepare=none &&
		grep -q "total: 64MiB" '"$VRAMSIM_DEBUGFS"'/vram && [ "$(cat /sys/module/vramsim/parameters/prepare)" = alloc ] &&
		grep -q "prepare=alloc" '"$VRAMSIM_DEBUGFS"'/vram'
	check "in-kernel alloc/free with prepare=alloc" sh -c "echo '9 32' > $VRAMSIM_DEBUGFS/bench && echo '0 2048' > $VRAMSIM_DEBUGFS/bench"
fi
check "rmmod after a non-default policy" rmmod vramsim
# Several devices: sizes from a list, the last repeated; num_devices
# writable at runtime; bad values refused with a message.
bad_params 'Invalid argument' '' vram_size=64M,3M vram_size=2M,2M,2M,2M,2M,2M,2M,2M,2M \
	vram_size=4M, num_devices=0 num_devices=9 num_devices=x
if [ -z "$bad" ]; then
	ok "bad vram_size lists and num_devices values fail with EINVAL and a message"
else
	not_ok "bad vram_size lists and num_devices values fail with EINVAL and a message" "wrong:$bad"
fi
dbg=${VRAMSIM_DEBUGFS%/*}
check "num_devices=3 vram_size=64M,32M: three devices, sizes 64M, 32M, 32M" sh -c "
	modprobe vramsim num_devices=3 vram_size=64M,32M &&
	ls /sys/devices/faux/vramsim/drm /sys/devices/faux/vramsim.1/drm /sys/devices/faux/vramsim.2/drm | grep -c renderD | grep -qx 3 &&
	grep -q 'total: 64MiB' $dbg/vramsim/vram && grep -q 'total: 32MiB' $dbg/vramsim.1/vram &&
	grep -q 'total: 32MiB' $dbg/vramsim.2/vram &&
	grep -qx 'device: 0' $dbg/vramsim/stats && grep -qx 'vram_size: 67108864' $dbg/vramsim/stats &&
	grep -qx 'device: 1' $dbg/vramsim.1/stats && grep -qx 'vram_size: 33554432' $dbg/vramsim.1/stats &&
	grep -qx 'device: 2' $dbg/vramsim.2/stats && grep -qx 'vram_size: 33554432' $dbg/vramsim.2/stats"
p=/sys/module/vramsim/parameters/num_devices
check "num_devices writable: 3 -> 1 removes two devices, 1 -> 2 adds one" sh -c "
	echo 1 > $p && [ \"\$(cat $p)\" = 1 ] && [ ! -e /sys/devices/faux/vramsim.1 ] &&
	[ ! -e /sys/devices/faux/vramsim.2 ] && [ -e /sys/devices/faux/vramsim ] &&
	echo 2 > $p && [ \"\$(cat $p)\" = 2 ] && ls /sys/devices/faux/vramsim.1/drm | grep -q renderD &&
	grep -q 'total: 32MiB' $dbg/vramsim.1/vram"
mark
check "bad num_devices writes fail with EINVAL and leave the devices" sh -c "
	for v in 0 9 x -1; do
		if /bin/echo \$v 2>/tmp/nd.err > $p; then exit 1; fi
		grep -q 'Invalid argument' /tmp/nd.err || exit 1
	done
	[ \"\$(cat $p)\" = 2 ] && [ -e /sys/devices/faux/vramsim.1 ] &&
	dmesg | grep -q 'num_devices=9: must be'"
check "rmmod with two devices" rmmod vramsim

# A load that fails part way, at allocations of vramsim_init() in turn:
# fail-nth makes the n-th allocation of the modprobe task fail, and
# the stack filter of failslab and fail_page_alloc counts only those made
# with module code on the stack (above the kernel's text, below
# MODULES_END): the ones vramsim_init() makes, once its block cache
# exists too (devices, DRM, VRAM, page map).  Each failed load must leave
# nothing behind (no module, no faux device, no slab cache) and the next
# load must work; kmemleak and the splat check of make test see the rest.
# n goes 1 to 16, then in steps of a quarter (a load takes seconds on the
# debug kernel, and a page map makes hundreds of allocations), until a
# load makes fewer than n counted calls (vramsim_modload reads what is
# left of the count: some failures, __GFP_NOWARN ones, say nothing).
fi_dir=/sys/kernel/debug
etext=$(awk '$3 == "_etext" { print "0x" $1 }' /proc/kallsyms)
# Every fault attribute with a stack filter (failslab, fail_page_alloc,
# fail_usercopy, ...): fail-nth counts the calls of all of them.
fi_attrs=
for a in $fi_dir/fail*/require-start; do
	[ -e "$a" ] && a=${a%/require-start} && fi_attrs="$fi_attrs ${a##*/}"
done
# fi_filter ATTR START END VERBOSE: the fault attribute ATTR (failslab,
# fail_page_alloc, ...) fails only allocations with an address in
# [START, END) on the stack, with probability 0 until the caller sets it;
# what it changes is added to $fi_save, which fi_restore puts back.
fi_filter() {
	local a=$1 f

	for f in ignore-gfp-wait require-start require-end reject-start reject-end \
		 stacktrace-depth verbose probability times; do
		[ -e $fi_dir/$a/$f ] && fi_save="$fi_save $a/$f=$(cat $fi_dir/$a/$f)"
	done
	echo 0 > $fi_dir/$a/probability
	[ -e $fi_dir/$a/ignore-gfp-wait ] && echo N > $fi_dir/$a/ignore-gfp-wait
	echo 0 > $fi_dir/$a/reject-start
	echo 0 > $fi_dir/$a/reject-end
	echo "$2" > $fi_dir/$a/require-start
	echo "$3" > $fi_dir/$a/require-end
	echo 32 > $fi_dir/$a/stacktrace-depth
	echo "$4" > $fi_dir/$a/verbose
}
fi_restore() {
	local f

	for f in $fi_save; do echo "${f#*=}" > "$fi_dir/${f%%=*}"; done
	fi_save=
}
modload=${VRAMSIM_TOOLS:-$(dirname "$0")/../../../build/tools}/vramsim_modload
[ -x "$modload" ] || modload=$(command -v vramsim_modload)
if [ -w /proc/self/fail-nth ] && [ -n "$fi_attrs" ] && [ -n "$etext" ] && [ -x "$modload" ]; then
	fi_save=
	for a in $fi_attrs; do
		fi_filter $a "$etext" 0xffffffffff000000 1
	done
	fi_save="$fi_save fail_page_alloc/min-order=$(cat $fi_dir/fail_page_alloc/min-order)"
	echo 0 > $fi_dir/fail_page_alloc/min-order
	bad= failed=0 handled=0 nth=0 left=0
	# finit_module() loads no dependencies: a load and unload leaves the
	# buddy allocator's module loaded.
	modprobe vramsim vram_size=2M && rmmod vramsim
	ko=$(modprobe --show-depends vramsim | awk '$1 == "insmod" { k = $2 } END { print k }')
	while [ $nth -lt 5000 ]; do
		if [ $nth -lt 16 ]; then nth=$((nth + 1)); else nth=$((nth + nth / 4)); fi
		mark
		# "errno E left L": L > 0, fewer than n calls were counted.
		set -- $($modload $nth "$ko" vram_size=2M)
		[ "${1:-}" = errno ] || { bad="$bad $nth(no vramsim_modload)"; break; }
		left=$4
		if [ "$2" = 0 ]; then
			rmmod vramsim || bad="$bad $nth(rmmod)"
			[ "$left" = 0 ] || break
			# The n-th allocation failed, and the load went on.
			handled=$((handled + 1))
			continue
		fi
		failed=$((failed + 1))
		if loaded || [ -e /sys/devices/faux/vramsim ] || [ -e /sys/kernel/slab/vramsim_block ]; then
			bad="$bad $nth(left behind)"
			unload
		fi
	done
	fi_restore
	modprobe -r vramsim 2>/dev/null
	mark
	if ! modprobe vramsim vram_size=2M || ! rmmod vramsim; then
		bad="$bad (no clean load after the sweep)"
	fi
	if [ -n "$bad" ] || [ $failed = 0 ] || [ $nth -ge 5000 ]; then
		not_ok "modprobe failing at allocations of vramsim_init() leaves nothing behind" \
			"wrong:$bad; $failed loads failed, $handled failures handled, last n $nth"
	else
		ok "modprobe failing at allocations of vramsim_init() leaves nothing behind ($failed loads failed, $handled failures handled by a load that went on, up to n=$nth)"
	fi
else
	not_ok "modprobe failing at allocations of vramsim_init()" "no fail-nth, fault attributes, _etext in /proc/kallsyms or vramsim_modload"
fi

# The DRM core's part of a load failing: the sysfs device of the first
# DRM minor (drm_sysfs_minor_alloc()) cannot be allocated.  Every
# allocation made with that function on the stack fails (failslab's
# stack filter), so this hits what the sweep above reaches only when a
# step of n lands on it.  On 7.3, drm_minor_alloc() left the error
# pointer in minor->kdev and its release action put it: an oops in
# kobject_put() (patches/drm/0001 fixes it).
minor_fn=$(awk '$3 == "drm_sysfs_minor_alloc" { s = $1; f = 1; next }
	f && $1 > s { print "0x" s, "0x" $1; exit }' /proc/kallsyms)
fs=$fi_dir/failslab
if [ -n "$minor_fn" ] && [ -w $fs/require-start ]; then
	fi_save=
	fi_filter failslab $minor_fn 0
	echo -1 > $fs/times
	echo 100 > $fs/probability
	mark
	modprobe vramsim vram_size=2M 2>/tmp/mp.err
	rc=$?
	echo 0 > $fs/probability
	fi_restore
	if [ $rc = 0 ]; then
		not_ok "a load whose DRM minor gets no sysfs device fails cleanly" "the load worked"
		unload
	elif ! grep -q 'Cannot allocate memory' /tmp/mp.err; then
		not_ok "a load whose DRM minor gets no sysfs device fails cleanly" "not ENOMEM: $(cat /tmp/mp.err)"
	elif loaded || [ -e /sys/devices/faux/vramsim ] || [ -e /sys/kernel/slab/vramsim_block ]; then
		not_ok "a load whose DRM minor gets no sysfs device fails cleanly" "left something behind"
		unload
	else
		check "a load whose DRM minor gets no sysfs device fails with ENOMEM, and the next one works" \
			sh -c 'modprobe vramsim vram_size=2M && rmmod vramsim'
	fi
else
	not_ok "a load whose DRM minor gets no sysfs device fails cleanly" "no drm_sysfs_minor_alloc in /proc/kallsyms or no failslab"
fi
check "no kernel warnings during the module tests" sh -c '! dmesg | grep -E "WARNING|BUG:|Oops"'

[ "$fails" = 0 ]
