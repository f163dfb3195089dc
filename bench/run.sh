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

# What the deterministic guest boots and runs, and how: equal builds boot
# alike, up to QEMU's boot state (below).
build=$({
	sha256sum < "$KOBJ/arch/x86/boot/bzImage"
	(cd "$pack" && find . -type f | LC_ALL=C sort | xargs sha256sum)
	cat "$repo/tools/testing/vramsim/vramsim-run" "$repo/tools/testing/vramsim/guest/init"
	"${VRAMSIM_QEMU:-qemu-system-x86_64}" --version | head -n1
} | sha256sum | cut -c1-16)

# QEMU's -icount leaves a boot in one of a few states: guest time and the
# instruction count end up a few ns apart, decided by host thread timing
# (docs/benchmarks.md, "Repeatability").  Each state then runs the same
# instructions every time, so the deterministic run boots until it is in
# the state of the previous run of the same build; a boot in another state
# is stopped as soon as it says so, a few seconds in.
want=
if [ -f "$prev/build-id" ] && [ "$(cat "$prev/build-id")" = "$build" ]; then
	want=$(cat "$prev/boot-state" 2>/dev/null || true)
fi
max_boots=12

for run in deterministic wallclock scaling; do
	flags=()
	smp=1
	[ $run = deterministic ] && flags=(--deterministic)
	[ $run = scaling ] && smp=2
	rm -rf "${out:?}/$run"
	mkdir -p "$out/$run"
	echo "==> Benchmark, $run guest ($mode matrix)"
	start=$(date +%s)
	boots=0
	while :; do
		pin=()
		[ $run = deterministic ] && [ -n "$want" ] && pin=(--pin-boot "$want")
		boots=$((boots + 1))
		rc=0
		"$repo/tools/testing/vramsim/vramsim-run" --kernel "$KOBJ/arch/x86/boot/bzImage" \
			--modules "$GUEST" "${flags[@]}" "${pin[@]}" --smp $smp --timeout 5400 --quiet \
			--self-contained "$pack" --collect "$out/$run" --log "$out/$run/console.log" \
			-- env VRAMSIM_BENCH=/bin/vramsim_bench PERF=/bin/perf \
			sh /bench/guest.sh /out "$mode" $run || rc=$?
		[ $rc = 75 ] || break
		if [ $boots -ge $max_boots ]; then
			echo "==> $boots boots, none in the previous run's state: measuring unpinned"
			want=
		fi
	done
	[ $rc = 0 ] || exit $rc
	echo "$(( $(date +%s) - start ))" > "$out/$run/host-seconds"
	if [ $run = deterministic ]; then
		echo "$build" > "$out/$run/build-id"
		sed -n 's/^VRAMSIM_BOOT=//p' "$out/$run/console.log" | tr -d '\r' > "$out/$run/boot-state"
		echo "$boots" > "$out/$run/boots"
	fi
	# The console log holds the results as base64 too: keep the text only.
	sed -i '/^VRAMSIM_OUT_BEGIN/,/^VRAMSIM_OUT_END/d' "$out/$run/console.log"
done

python3 "$repo/bench/report.py" "$out" "$prev" "$repo/docs/benchmarks.md" "$mode"
