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
max_boots=12

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

	build=$({
		sha256sum < "$kernel"
		(cd "$pack" && find . -type f | LC_ALL=C sort | xargs sha256sum)
		cat "$repo/tools/testing/vramsim/vramsim-run" "$repo/tools/testing/vramsim/guest/init"
		"${VRAMSIM_QEMU:-qemu-system-x86_64}" --version | head -n1
	} | sha256sum | cut -c1-16)
	want=
	if [ -f "$prev/$v/build-id" ] && [ "$(cat "$prev/$v/build-id")" = "$build" ]; then
		want=$(cat "$prev/$v/boot-state" 2>/dev/null || true)
	fi

	echo "==> Debate benchmark, variant $v (deterministic guest)"
	rm -rf "${out:?}/$v"
	mkdir -p "$out/$v"
	start=$(date +%s)
	boots=0
	while :; do
		pin=()
		[ -n "$want" ] && pin=(--pin-boot "$want")
		boots=$((boots + 1))
		rc=0
		"$repo/tools/testing/vramsim/vramsim-run" --kernel "$kernel" --modules "$dir/guest" \
			--deterministic "${pin[@]}" --smp 1 --timeout 3600 --quiet \
			--self-contained "$pack" --collect "$out/$v" --log "$out/$v/console.log" \
			-- env VRAMSIM_BENCH=/bin/vramsim_bench sh /bench/debate-guest.sh /out || rc=$?
		[ $rc = 75 ] || break
		if [ $boots -ge $max_boots ]; then
			echo "==> $boots boots, none in the previous run's state: measuring unpinned"
			want=
		fi
	done
	[ $rc = 0 ] || { echo "debate.sh: the $v guest failed ($rc), see $out/$v/console.log" >&2; exit $rc; }
	echo "$(( $(date +%s) - start ))" > "$out/$v/host-seconds"
	echo "$build" > "$out/$v/build-id"
	sed -n 's/^VRAMSIM_BOOT=//p' "$out/$v/console.log" | tr -d '\r' > "$out/$v/boot-state"
	echo "$boots" > "$out/$v/boots"
	sed -i '/^VRAMSIM_OUT_BEGIN/,/^VRAMSIM_OUT_END/d' "$out/$v/console.log"
done

python3 "$repo/bench/debate.py" "$out" "$prev" "$repo/docs/debate.md"
