# SPDX-License-Identifier: GPL-2.0
#
# Shared by make bench (run.sh) and make bench-debate (debate.sh): how a
# deterministic guest's figures are made repeatable.  QEMU's -icount
# leaves a boot in one of a few states: guest time and the instruction
# count end up a few ns apart, decided by host thread timing
# (docs/benchmarks.md, "Repeatability").  Each state then runs the same
# instructions every time, so a run boots until it is in the state of the
# previous run of the same build; a boot in another state is stopped as
# soon as it says so, a few seconds in.
bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# bench_build_id KERNEL PACK: what the guest boots and runs, and how.
bench_build_id() {
	{
		sha256sum < "$1"
		(cd "$2" && find . -type f | LC_ALL=C sort | xargs sha256sum)
		cat "$bench_repo/tools/testing/vramsim/vramsim-run" \
			"$bench_repo/tools/testing/vramsim/guest/init"
		"${VRAMSIM_QEMU:-qemu-system-x86_64}" --version | head -n1
	} | sha256sum | cut -c1-16
}

# bench_want PREVDIR BUILD: the boot state to pin, if PREVDIR is a run of
# the same build.
bench_want() {
	if [ -f "$1/build-id" ] && [ "$(cat "$1/build-id")" = "$2" ]; then
		cat "$1/boot-state" 2>/dev/null || true
	fi
}

# bench_boot WANT VRAMSIM-RUN-ARGS...: vramsim-run until a boot is in
# state WANT (none: the first boot); after 12 boots in other states, one
# unpinned.  Sets bench_boots; returns the runner's status.
bench_boot() {
	local want=$1 rc pin
	shift
	bench_boots=0
	while :; do
		pin=()
		[ -n "$want" ] && pin=(--pin-boot "$want")
		bench_boots=$((bench_boots + 1))
		rc=0
		"$bench_repo/tools/testing/vramsim/vramsim-run" "${pin[@]}" "$@" || rc=$?
		[ $rc = 75 ] || return $rc
		if [ $bench_boots -ge 12 ]; then
			echo "==> $bench_boots boots, none in the previous run's state: measuring unpinned"
			want=
		fi
	done
}

# bench_record OUTDIR BUILD: what the next run pins to, and the console
# log without the results' base64 copy.
bench_record() {
	echo "$2" > "$1/build-id"
	sed -n 's/^VRAMSIM_BOOT=//p' "$1/console.log" | tr -d '\r' > "$1/boot-state"
	echo "$bench_boots" > "$1/boots"
	sed -i '/^VRAMSIM_OUT_BEGIN/,/^VRAMSIM_OUT_END/d' "$1/console.log"
}
