#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-debate: every placement of the prepare step on its kernel
# (docs/variants.md), side by side, in the deterministic guest (TCG with
# -icount shift=0: 1 ns of guest time is one instruction, identical run to
# run in one boot state).  One self-contained boot per variant runs
# bench/debate-guest.sh: the in-kernel alloc/free path per order 0, 4, 9,
# end to end per policy, and the KUnit reproducers.  bench/debate.py makes
# the table and the plot: bench/results/<date>/debate/ and the results
# section of docs/debate.md.
#
# As make bench does, each variant boots until it is in the boot state of
# the previous run of the same build, so that a rerun repeats its figures.
#
# usage: debate.sh    (environment: TOOLS_OUT; the variants' production
# kernels must be built: make kernel VARIANT=...)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
: "${TOOLS_OUT:=$repo/build/tools}"
stamp=${VRAMSIM_BENCH_STAMP:-$(date -u +%Y-%m-%d)}
out=$repo/bench/results/$stamp/debate
prev=$repo/build/debate-previous
variants=${DEBATE_VARIANTS:-stock fix core}
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"

rm -rf "$prev"
if [ -d "$out" ]; then
	cp -r "$out" "$prev"
else
	last=$(ls -d "$repo"/bench/results/*/debate 2>/dev/null | sort | tail -n1 || true)
	[ -z "$last" ] || cp -r "$last" "$prev"
fi

for v in $variants; do
	dir=$repo/build
	[ "$v" = stock ] || dir=$repo/build/variants/$v
	kernel=$dir/obj/arch/x86/boot/bzImage
	[ -f "$kernel" ] || { echo "debate.sh: no kernel for $v (make kernel VARIANT=$v)" >&2; exit 1; }
	pack=$repo/build/debate-pack/$v
	"$repo/bench/pack.sh" "$pack" "$dir/guest" "$TOOLS_OUT" > /dev/null
	cp "$repo/bench/debate-guest.sh" "$pack/bench/"

	build=$(bench_build_id "$kernel" "$pack")
	want=$(bench_want "$prev/$v" "$build")

	echo "==> Debate benchmark, variant $v (deterministic guest)"
	rm -rf "${out:?}/$v"
	mkdir -p "$out/$v"
	start=$(date +%s)
	rc=0
	bench_boot "$want" --kernel "$kernel" --modules "$dir/guest" \
		--deterministic --smp 1 --timeout 3600 --quiet \
		--self-contained "$pack" --collect "$out/$v" --log "$out/$v/console.log" \
		-- env VRAMSIM_BENCH=/bin/vramsim_bench sh /bench/debate-guest.sh /out || rc=$?
	[ $rc = 0 ] || { echo "debate.sh: the $v guest failed ($rc), see $out/$v/console.log" >&2; exit $rc; }
	echo "$(( $(date +%s) - start ))" > "$out/$v/host-seconds"
	bench_record "$out/$v" "$build"
done

python3 "$repo/bench/debate.py" "$out" "$prev" "$repo/docs/debate.md"
