#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench-debate, inside one deterministic guest boot of one kernel
# variant (see debate.sh): every placement of the prepare step this kernel
# has, measured and checked.
#   1. the in-kernel alloc/free path per order 0, 4 and 9 (64 MiB of
#      folios each): one bench run measures every policy the kernel has
#      (debugfs bench: <policy>_{alloc,free,return}_ns); best of 3 runs
#   2. end to end per policy: migrate to the device, then munmap
#      (vramsim_bench --quick --no-micro --no-hmm: 512K, 2M and 32M, THP
#      on and off, median of 3)
#   3. correctness: the KUnit suite, whose reproducers print what they
#      found ("finding: ...") and pass only if that is what this kernel
#      should show
# usage: debate-guest.sh OUTDIR    (VRAMSIM_BENCH names the binary)
set -eu
out=$1
bench=${VRAMSIM_BENCH:-vramsim_bench}
dbg=/sys/kernel/debug/dri/vramsim
mkdir -p "$out"

{
	echo "kernel: $(uname -r), $(nproc) CPU(s)"
	echo "boot state: $(cat /proc/sys/kernel/random/boot_id)"
} > "$out/guest.txt"

# Nothing is written to the host during a measurement: to tmpfs first.
tmp=$(mktemp -d /tmp/debate.XXXXXX)

rmmod vramsim 2>/dev/null || true
modprobe vramsim vram_size=256M
policies=$(cat /sys/module/vramsim/parameters/prepare)
[ "$policies" = core ] || policies="driver alloc"
echo "$policies" > "$out/policies"

# 1. The in-kernel path: one line per run, best of three taken on the host.
for order in 0 4 9; do
	count=$((16384 >> order))
	for run in 1 2 3; do
		echo "$order $count" > "$dbg/bench"
		echo "run=$run $(cat "$dbg/bench")" >> "$tmp/micro.txt"
	done
done
rmmod vramsim

# 2. End to end, per policy, each on a fresh device.
for p in $policies; do
	modprobe vramsim vram_size=256M prepare="$p"
	mkdir -p "$tmp/e2e-$p"
	"$bench" --quick --no-micro --no-hmm --csv "$tmp/e2e-$p" > "$tmp/e2e-$p.txt" 2>&1
	rmmod vramsim
done

# 3. Correctness: the reproducers, under every policy of this kernel.
dmesg -c > /dev/null
modprobe vramsim_kunit
dmesg > "$tmp/kunit.txt"
rmmod vramsim_kunit
rmmod vramsim 2>/dev/null || true

cp -r "$tmp"/. "$out/"
