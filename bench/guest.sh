#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark matrix, inside the guest (see run.sh): vramsim_bench under
# perf stat (software events and vramsim tracepoints, system-wide), then a
# cpu-clock profile of the in-kernel free path.  usage: guest.sh OUTDIR MODE
# VRAMSIM_BENCH and PERF name the binaries when they are not the host's.
set -eu
out=$1
mode=${2:-full}
repo=$(cd "$(dirname "$0")/.." && pwd)
bench=${VRAMSIM_BENCH:-$repo/build/tools/vramsim_bench}
dbg=/sys/kernel/debug/dri/vramsim
mkdir -p "$out"

# Debian's /usr/bin/perf picks a binary by kernel version; call it directly.
perf=${PERF:-$(ls /usr/bin/perf_[0-9]* 2>/dev/null | sort -V | tail -n1)}
[ -n "$perf" ] || perf=$(command -v perf)

modprobe vramsim
modprobe test_hmm

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
