#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The vramsim stress run, inside the guest:
#   stress.sh OUTDIR [vramsim_stress options]
# "make stress" runs it long (STRESS_ARGS, default --minutes 30); with no
# options it does the short run "make test" uses (about 2 minutes on the
# debug kernel).  --minutes N is --seconds 60*N.  The time is split evenly
# between the kernel's policies, prepare=driver and prepare=alloc (only
# prepare=core on VARIANT=core), each on a fresh
# "modprobe vramsim num_devices=2 vram_size=64M,32M" (two devices, the
# stress tool's migrations to the device pick one at random, so pages
# also move device to device); both halves use the same seed.
#
# Writes to OUTDIR:
#   stress.tap             TAP: per policy, vramsim_stress's 3 test points,
#                          no kernel splat, rmmod vramsim
#   stress-summary.txt     seed, operations, per-operation counts, data
#                          errors, splats, for each policy
#   stress-<policy>.log    vramsim_stress's output
#   dmesg-<policy>.txt     kernel messages of that half
#   vram-<policy>.txt      debugfs vram state of each device after it
#   kmemleak.txt           runs of 10 minutes or more: a kmemleak scan
# Exits non-zero if anything failed.
set -u
out=${1:?usage: stress.sh OUTDIR [vramsim_stress options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
tools=${VRAMSIM_TOOLS:-$(cd "$here/../../../.." && pwd)/build/tools}
# shellcheck source=tools/testing/vramsim/guest/lib.sh
. "$here/lib.sh"
mkdir -p "$out"

# The short run: VRAM fills up now and then (two processes of two threads,
# four buffers each of 64K..8M that mremap can grow to 16M, and a hog of
# 32M each, on devices of 64M and 32M of VRAM).
modparams="num_devices=2 vram_size=64M,32M"
short_args=(--procs 2 --threads 2 --size 64K:8M --seconds 40)
[ $# -gt 0 ] || set -- "${short_args[@]}"

# Split the time, give both halves one seed, pass the rest through.
seconds=0
seed=
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--minutes) seconds=$(($2 * 60)); shift 2 ;;
	--minutes=*) seconds=$((${1#*=} * 60)); shift ;;
	--seconds) seconds=$2; shift 2 ;;
	--seconds=*) seconds=${1#*=}; shift ;;
	--seed) seed=$2; shift 2 ;;
	--seed=*) seed=${1#*=}; shift ;;
	*) args+=("$1"); shift ;;
	esac
done
[ -n "$seed" ] || seed=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
policies=$(vramsim_policies) || policies="driver alloc"
npol=$(echo $policies | wc -w)
[ "$seconds" -gt 0 ] && args+=(--seconds $(((seconds + npol - 1) / npol)))
args+=(--seed "$seed")

# What scripts/test.sh and the brief count as a kernel splat.
splat_re='WARNING:|BUG:|Oops|Kernel panic|general protection fault|KASAN|kernel BUG|UBSAN|ODEBUG|lockdep|possible .* locking|inconsistent lock|suspicious RCU usage|sleeping function|scheduling while atomic|list_(add|del) corruption|INFO: task .* blocked|detected stall|soft lockup|hard LOCKUP|page_table_check|[Bb]ad page|DEBUG_LOCKS_WARN_ON|kmemleak: .*suspected memory leak'

# The plan is written first and each result as it comes: a run cut short
# (a timeout, a hung guest) shows as fewer results than planned.
tap=$out/stress.tap
summary=$out/stress-summary.txt
kml=/sys/kernel/debug/kmemleak
do_kml=0
[ "$seconds" -ge 600 ] && [ -w "$kml" ] && do_kml=1
n=0
failed=0
printf 'TAP version 13\n1..%d\n' $((npol * 5 + do_kml)) > "$tap"
result() {	# result OK|FAIL description
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi >> "$tap"
}

{
	echo "vramsim stress run, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), kernel $(uname -r)"
	echo "seed: $seed"
	echo "options per policy: ${args[*]}"
	echo "replay one half: vramsim_stress ${args[*]} (modprobe vramsim $modparams prepare=POLICY)"
} > "$summary"

# Leaks from before the run (boot) are not ours: forget them.
[ -w "$kml" ] && echo clear > "$kml"
rmmod vramsim 2>/dev/null
for policy in $policies; do
	log=$out/stress-$policy.log
	echo "== vramsim_stress, prepare=$policy: ${args[*]}"
	dmesg -c > /dev/null
	t0=$EPOCHSECONDS
	# shellcheck disable=SC2086 # $modparams: several parameters
	if ! modprobe vramsim $modparams prepare="$policy"; then
		for _ in 1 2 3 4 5; do
			result FAIL "prepare=$policy: modprobe vramsim $modparams prepare=$policy"
		done
		echo "prepare=$policy: modprobe failed" >> "$summary"
		continue
	fi
	t1=$EPOCHSECONDS
	"$tools/vramsim_stress" "${args[@]}" > "$log" 2>&1
	rc=$?
	t2=$EPOCHSECONDS
	cat "$log"

	# vramsim_stress's own test points (3), renumbered; any missing fail,
	# and so does a non-zero exit status none of them shows.  (No process
	# substitution: the guest has no /dev/fd.)
	got=0
	grep -E '^(not )?ok [0-9]+ ' "$log" | head -n 3 > "$out/.points-$policy"
	[ $rc = 0 ] || grep -q '^not ok' "$out/.points-$policy" ||
		sed -i "1s/^ok [0-9]* \(.*\)/not ok 1 \1 (exit status $rc)/" "$out/.points-$policy"
	while read -r line; do
		case "$line" in
		"ok "*) result OK "prepare=$policy: ${line#ok [0-9]* }" ;;
		"not ok "*) result FAIL "prepare=$policy: ${line#not ok [0-9]* }" ;;
		esac
		got=$((got + 1))
	done < "$out/.points-$policy"
	rm -f "$out/.points-$policy"
	while [ $got -lt 3 ]; do
		got=$((got + 1))
		result FAIL "prepare=$policy: vramsim_stress test point $got missing (exit status $rc)"
	done

	for f in "$VRAMSIM_DEBUGFS"/vram "$VRAMSIM_DEBUGFS".*/vram; do
		[ -e "$f" ] && echo "== $f" && cat "$f"
	done > "$out/vram-$policy.txt" 2>&1
	if rmmod_out=$(rmmod vramsim 2>&1); then
		result OK "prepare=$policy: rmmod vramsim"
	else
		result FAIL "prepare=$policy: rmmod vramsim: $rmmod_out"
	fi
	t3=$EPOCHSECONDS

	dmesg > "$out/dmesg-$policy.txt"
	splats=$(grep -cE "$splat_re" "$out/dmesg-$policy.txt")
	if [ "$splats" = 0 ]; then
		result OK "prepare=$policy: no kernel splat"
	else
		result FAIL "prepare=$policy: $splats kernel splat line(s), see dmesg-$policy.txt"
		grep -E -m10 "$splat_re" "$out/dmesg-$policy.txt" | sed 's/^/# /'
	fi

	{
		echo
		echo "prepare=$policy: exit status $rc; modprobe $((t1 - t0)) s, vramsim_stress $((t2 - t1)) s, rmmod $((t3 - t2)) s"
		grep -E '^# (summary|ms per operation|vram): ' "$log" | sed 's/^# /  /'
		grep -E '^(not )?ok [0-9]+ ' "$log" | sed 's/^/  /'
		echo "  kernel splat lines: $splats"
		grep -E -m10 "$splat_re" "$out/dmesg-$policy.txt" | sed 's/^/    /'
		grep -E -m10 '^# (DATA ERROR|API ERROR|FATAL|FORK CHILD)' "$log" | sed 's/^/    /'
	} >> "$summary"
done

# Long runs: a kmemleak scan (it takes a minute or more on the debug
# kernel, too long for the short run).  Leaks through vramsim or the buddy
# fail; others are only listed in the summary.
if [ $do_kml = 1 ]; then
	echo "== kmemleak scan"
	echo scan > "$kml"; sleep 6; echo scan > "$kml"
	cat "$kml" > "$out/kmemleak.txt"
	leaks=$(grep -c '^unreferenced object' "$out/kmemleak.txt")
	ours=$(awk '/^unreferenced object/ { if (hit) n++; hit = 0 }
		    /vramsim|gpu_buddy/ { hit = 1 }
		    END { if (hit) n++; print n + 0 }' "$out/kmemleak.txt")
	if [ "$ours" = 0 ]; then
		result OK "kmemleak: no leak through vramsim ($leaks other report(s))"
	else
		result FAIL "kmemleak: $ours leak(s) through vramsim, see kmemleak.txt"
	fi
	echo "kmemleak: $leaks unreferenced object(s), $ours through vramsim or the buddy" >> "$summary"
fi

{
	echo
	echo "result: $((n - failed)) passed, $failed failed"
} >> "$summary"
echo "== stress: $((n - failed)) passed, $failed failed (seed $seed)"
cat "$tap"
[ $failed = 0 ]
