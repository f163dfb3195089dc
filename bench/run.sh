#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the whole benchmark matrix, twice, each in one guest boot,
# and the in-kernel free path on 2 CPUs in a third:
#   deterministic  TCG with -icount shift=0: guest time counts instructions
#                  (1 ns = 1 instruction), identical run to run; also
#                  eviction, oversubscription, two devices, VRAM sizes
#   wallclock      TCG in real time: noisy, and not hardware speed either
#   scaling        TCG in real time, 2 CPUs: the parallel free, 1 vs 2
#                  threads (multi-threaded TCG: each vCPU a host thread)
# Each boot is self-contained (an initramfs with the modules, perf and a
# static vramsim_bench): no host I/O can reach into the measurement.
# Results: bench/results/<date>/{deterministic,wallclock,scaling}/, a README.md
# with the tables, PNG plots, and the results section of docs/benchmarks.md.
#
# usage: run.sh [full|quick]   (environment: KOBJ, GUEST, TOOLS_OUT)
set -euo pipefail

mode=${1:-full}
repo=$(cd "$(dirname "$0")/.." && pwd)
: "${KOBJ:=$repo/build/obj}" "${GUEST:=$repo/build/guest}" "${TOOLS_OUT:=$repo/build/tools}"
stamp=${VRAMSIM_BENCH_STAMP:-$(date -u +%Y-%m-%d)}
out=$repo/bench/results/$stamp
[ "$mode" = full ] || out=$repo/build/bench-$mode
pack=$repo/build/bench-pack
prev=$repo/build/bench-previous

"$repo/bench/pack.sh" "$pack" "$GUEST" "$TOOLS_OUT"

# Keep the last deterministic figures, to say whether this run repeats them.
rm -rf "$prev"
if [ -d "$out/deterministic" ]; then
	cp -r "$out/deterministic" "$prev"
else
	last=$(ls -d "$repo"/bench/results/*/deterministic 2>/dev/null | sort | tail -n1 || true)
	[ -z "$last" ] || cp -r "$last" "$prev"
fi

# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
build=$(bench_build_id "$KOBJ/arch/x86/boot/bzImage" "$pack")
want=$(bench_want "$prev" "$build")

for run in deterministic wallclock scaling; do
	flags=()
	smp=1
	[ $run = deterministic ] && flags=(--deterministic)
	[ $run = scaling ] && smp=2
	rm -rf "${out:?}/$run"
	mkdir -p "$out/$run"
	echo "==> Benchmark, $run guest ($mode matrix)"
	start=$(date +%s)
	rc=0
	bench_boot "$([ $run = deterministic ] && echo "$want")" \
		--kernel "$KOBJ/arch/x86/boot/bzImage" \
		--modules "$GUEST" "${flags[@]}" --smp $smp --timeout 5400 --quiet \
		--self-contained "$pack" --collect "$out/$run" --log "$out/$run/console.log" \
		-- env VRAMSIM_BENCH=/bin/vramsim_bench PERF=/bin/perf \
		sh /bench/guest.sh /out "$mode" $run || rc=$?
	[ $rc = 0 ] || exit $rc
	echo "$(( $(date +%s) - start ))" > "$out/$run/host-seconds"
	if [ $run = deterministic ]; then
		bench_record "$out/$run" "$build"
	else
		# The console log holds the results as base64 too: keep the text only.
		sed -i '/^VRAMSIM_OUT_BEGIN/,/^VRAMSIM_OUT_END/d' "$out/$run/console.log"
	fi
done

python3 "$repo/bench/report.py" "$out" "$prev" "$repo/docs/benchmarks.md" "$mode"
