#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What "make run" does inside the guest: load vramsim, show its DRM nodes
# and VRAM, exercise it, and unload it.
set -eu
here=$(dirname "$0")
. "$here/lib.sh"
bench=${VRAMSIM_TOOLS:-$(cd "$here/../../../.." && pwd)/build/tools}/vramsim_bench

step() { printf '\n== %s\n' "$*"; }

step "Linux $(uname -r) guest: $(nproc) CPU(s), $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
modprobe vramsim
echo "vramsim loaded: vram_size=$(( $(cat /sys/module/vramsim/parameters/vram_size) >> 20 ))M prepare=$(cat /sys/module/vramsim/parameters/prepare)"
for n in $(vramsim_drm_nodes); do
	echo "DRM node: /dev/dri/$n"
done

step "VRAM (from $VRAMSIM_DEBUGFS/vram)"
sed -n '1,3p;/chunk_size/p' "$VRAMSIM_DEBUGFS/vram"

if [ -x "$bench" ]; then
	step "Benchmark (short run; make bench for the full matrix)"
	# Upstream test_hmm, for the side-by-side rows.
	modprobe test_hmm 2>/dev/null || true
	"$bench" --quick
	rmmod test_hmm 2>/dev/null || true
else
	step "In-kernel alloc/free smoke ($VRAMSIM_DEBUGFS/bench)"
	for run in "0 4096" "9 64"; do
		echo "$run" > "$VRAMSIM_DEBUGFS/bench"
		cat "$VRAMSIM_DEBUGFS/bench"
	done
fi

step "Counters after the run"
sed -n '2,13p' "$VRAMSIM_DEBUGFS/vram"

step "Unloading"
rmmod vramsim
if dmesg | grep -E 'vramsim.*(leak|still in use)|WARNING|BUG:'; then
	echo "unload reported problems (above)"
	exit 1
fi
echo "vramsim unloaded cleanly: every block back in the buddy, page map released"
