#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark matrix, inside the guest (see run.sh): vramsim_bench under
# perf stat (software events and vramsim tracepoints, system-wide), then a
# cpu-clock profile of the in-kernel free path; in the deterministic boot
# then eviction, oversubscription, two devices and a VRAM-size sweep, each
# with the module loaded to suit it; in the scaling boot (2 CPUs) only the
# in-kernel parallel free.  usage: guest.sh OUTDIR MODE [KIND]
# (KIND: deterministic, wallclock or scaling; default deterministic).
# VRAMSIM_BENCH and PERF name the binaries when they are not the host's.
set -eu
out=$1
mode=${2:-full}
kind=${3:-deterministic}
repo=$(cd "$(dirname "$0")/.." && pwd)
bench=${VRAMSIM_BENCH:-$repo/build/tools/vramsim_bench}
dbg=/sys/kernel/debug/dri/vramsim
mkdir -p "$out"

# Debian's /usr/bin/perf picks a binary by kernel version; call it directly.
perf=${PERF:-$(ls /usr/bin/perf_[0-9]* 2>/dev/null | sort -V | tail -n1)}
[ -n "$perf" ] || perf=$(command -v perf)

{
	echo "kernel: $(uname -r), $(nproc) CPU(s), $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
	echo "cmdline: $(cat /proc/cmdline | sed 's/VRAMSIM_[A-Z]*=[^ ]*//g')"
	echo "perf: $($perf --version)"
	echo "boot state: $(cat /proc/sys/kernel/random/boot_id)"
} > "$out/guest.txt"

# Everything the measured run writes goes to tmpfs, and to $out only
# afterwards: no host I/O inside a measurement.
tmp=$(mktemp -d /tmp/vramsim-bench.XXXXXX)
mkdir -p "$tmp/traced"
cp "$bench" "$tmp/vramsim_bench"

# Scaling: the in-kernel free path on 1 and on 2 CPUs at once ("<order>
# <count> <threads>": each thread frees <count> folios), repeated; report.py
# takes the median.  Nothing else runs in this boot.
if [ "$kind" = scaling ]; then
	reps=5
	# A 2 GiB device: the private instance has its size, so that each of
	# two threads frees 512 MiB (an order-9 run lasts milliseconds, not
	# a fraction of one).
	modprobe vramsim vram_size=2G
	echo "== in-kernel parallel free, $reps repetitions"
	for r in $(seq $reps); do
		for spec in "0 131072" "9 512"; do
			for t in 1 2; do
				echo "$spec $t" > $dbg/bench
				echo "rep=$r $(cat $dbg/bench)" >> "$tmp/scale.txt"
			done
		done
	done
	rmmod vramsim
	# What TCG itself gives two vCPUs on this host: a shell loop, no
	# kernel work, run once alone and then twice at once.
	echo "== TCG's own ceiling: a shell loop, 1 and 2 at once, 3 repetitions"
	# busybox's date has no %N: /proc/uptime, in 10 ms steps, against
	# loops of several seconds.
	spin() { i=0; while [ $i -lt 100000 ]; do i=$((i + 1)); done; }
	now() { read -r up _ < /proc/uptime; echo $((${up%.*}${up#*.} * 10000000)); }
	for r in 1 2 3; do
		t0=$(now); spin; t1=$(now)
		spin & spin & wait; t2=$(now)
		echo "rep=$r ceiling=loop procs=1 ns=$((t1 - t0))" >> "$tmp/scale.txt"
		echo "rep=$r ceiling=loop procs=2 ns=$((t2 - t1))" >> "$tmp/scale.txt"
	done
	cp "$tmp/scale.txt" "$out/"
	cat "$out/scale.txt"
	exit 0
fi

modprobe vramsim
modprobe test_hmm

# 1. The figures: nothing else running, tracepoints off (an enabled
#    tracepoint costs a few hundred instructions per event, and perf's own
#    activity perturbs the deterministic guest).
echo "== vramsim_bench --$mode"
"$tmp/vramsim_bench" --"$mode" --csv "$tmp" > "$tmp/bench.txt"
cp "$tmp"/*.csv "$tmp/bench.txt" "$out/"
cat "$out/bench.txt"

# 2. The same matrix under perf stat: software events and every vramsim
#    tracepoint; the folio counts must equal what vramsim_bench reports.
echo "== vramsim_bench --$mode under perf stat -a -e 'vramsim:*' and software events"
"$perf" stat -a -o "$tmp/perf-stat.txt" -e 'vramsim:*' \
	-e task-clock,page-faults,context-switches,cpu-migrations \
	-- "$tmp/vramsim_bench" --"$mode" --csv "$tmp/traced" > "$tmp/bench-traced.txt"
cp "$tmp/perf-stat.txt" "$tmp/bench-traced.txt" "$out/"
cat "$out/perf-stat.txt"

grep -E ' [tTwW] ' /proc/kallsyms > "$out/kallsyms.txt"

# Where the free path's time goes: a cpu-clock profile per order, of the
# task that runs the in-kernel benchmark (the free worker is held off during
# it, so the whole path runs in this task).
# Each order gets about the same amount of work: 3 x 256 MiB of order 0,
# 100 x 512 MiB of order 9 (its folios are fewer and each is faster).
scale=1
[ "$mode" = full ] || scale=4
for spec in "0 65536 3" "9 256 100"; do
	set -- $spec
	order=$1
	runs=$(( ($3 + scale - 1) / scale ))
	spec="$1 $2"
	echo "== perf record -e cpu-clock -g: in-kernel free path, order $order ($runs runs of $spec)"
	"$perf" record -q -g -e cpu-clock -F 9999 -o /tmp/perf.data -- sh -c "
		for i in \$(seq $runs); do echo '$spec' > $dbg/bench; done" 2>/dev/null || true
	# perf 6.1 derives module address ranges from /proc/modules, which
	# since 6.4 no longer matches a module's text, and so misnames
	# vramsim's symbols: keep the raw callchains and /proc/kallsyms, and
	# let report.py resolve them on the host.
	"$perf" script -i /tmp/perf.data -F ip 2>/dev/null > "$out/perf-script-order$order.txt"
	rm -f /tmp/perf.data
done

rmmod test_hmm
rmmod vramsim

[ "$kind" = deterministic ] || exit 0

# 3. Eviction, oversubscription and two devices: vramsim_bench sections of
#    their own, each with the module loaded to suit it (a 64 MiB VRAM).
: > "$tmp/bench-extra.txt"
extra() {
	params=$1
	shift
	modprobe vramsim $params
	echo "== vramsim_bench --$mode $* (modprobe vramsim $params)" | tee -a "$tmp/bench-extra.txt"
	"$tmp/vramsim_bench" --"$mode" "$@" --csv "$tmp" >> "$tmp/bench-extra.txt"
	rmmod vramsim
}
extra "vram_size=64M evict=on" --evict
extra "vram_size=64M evict=on" --oversub
extra "vram_size=64M evict=off" --oversub
extra "vram_size=64M num_devices=2" --peer
cp "$tmp"/*.csv "$tmp/bench-extra.txt" "$out/"
cat "$out/bench-extra.txt"

# 4. The in-kernel bench against the VRAM size: the same folios freed from
#    a buddy of 256 MiB to 8 GiB (the private instance has the device's size).
sizes="256M 512M 1G 2G 4G 8G"
specs="0:65536 9:128"
[ "$mode" = full ] || specs="0:16384 9:32"
[ "$mode" = full ] || sizes="256M 1G 8G"
echo "== in-kernel bench against vram_size: $sizes"
for size in $sizes; do
	modprobe vramsim vram_size=$size
	for spec in $specs; do
		echo "${spec%:*} ${spec#*:}" > $dbg/bench
		echo "vram_size=$size $(cat $dbg/bench)" >> "$tmp/sweep.txt"
	done
	rmmod vramsim
done
cp "$tmp/sweep.txt" "$out/"
cat "$out/sweep.txt"
