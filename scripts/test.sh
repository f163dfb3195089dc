#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: every test of vramsim, ending with "N passed, N failed".
# KOBJ/GUEST are a debug kernel's (KASAN, lockdep, DEBUG_VM, kmemleak,
# UBSAN, fault injection: configs/debug.config), VARIANT its name
# (docs/variants.md); KOBJ_B/GUEST_B/VARIANT_B the one guest b boots (the
# same by default), A_OPTS and B_OPTS each guest's options
# (guest/test.sh).  Everything runs on debug kernels, so make test builds
# no production kernel.
#   0. host checks of the build set-up (scripts/test-build-setup.sh)
#   1. KUnit, upstream gpu_buddy suite: kunit.py exec --arch=x86_64 on the
#      debug kernel already built (the suite is built in)
#   2. two guest boots, one after the other (tools/testing/vramsim/guest/
#      test.sh a and b), each on its kernel: module tests, the vramsim KUnit suites
#      (a module, like the driver; parsed with kunit.py parse), each
#      guest's prepare policy's migration, concurrency, mm-operation,
#      eviction and two-device selftests, the fault-injection selftests, a
#      short stress run, fuzzed ioctls, a benchmark smoke run, and in each
#      guest a final kmemleak scan; each guest lists its result files first
#      (plan-a.txt, plan-b.txt), and a missing one fails
#   3. the runner's deterministic, self-contained mode (make bench's)
# One QEMU at a time: each has both host cores for its two vCPUs
# (section 2 says why).
# Any kernel splat (WARN, BUG, oops, KASAN, lockdep, UBSAN, DEBUG_VM,
# debugobjects, hung task, RCU stall) in a guest log fails the run.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
: "${KSRC:?}" "${KOBJ:?}" "${GUEST:?}" "${TOOLS_OUT:?}"
VARIANT=${VARIANT:-stock}
KOBJ_B=${KOBJ_B:-$KOBJ}
GUEST_B=${GUEST_B:-$GUEST}
VARIANT_B=${VARIANT_B:-$VARIANT}
A_OPTS=${A_OPTS:-}
B_OPTS=${B_OPTS:-}
results=$repo/build/test-results
rm -rf "$results"
mkdir -p "$results"

passed=0
failed=0
problems=()
add() { passed=$((passed + $1)); failed=$((failed + $2)); }
problem() { problems+=("$*"); echo "FAILED: $*" >&2; }

# Kernel splats: any of these in a guest log fails the run.
splat_re='(WARNING:|BUG:|Oops|Kernel panic|general protection fault|KASAN:|kernel BUG|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|scheduling while atomic|UBSAN:|ODEBUG:|list_(add|del) corruption|INFO: task .* blocked|detected stall|soft lockup|hard LOCKUP|page_table_check|bad page state|Bad page|DEBUG_LOCKS_WARN_ON|kmemleak: .*suspected memory leak)'
check_splats() {
	local log=$1 what=$2
	if grep -Eq "$splat_re" "$log"; then
		problem "kernel splat during $what (see $log):"
		grep -E -m5 "$splat_re" "$log" | sed 's/^/    /' >&2
		failed=$((failed + 1))
	fi
}

# "Ran N tests: passed: P, failed: F" from kunit.py's summary.
count_kunit() {
	local log=$1 what=$2 line p f
	line=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$log" | tail -n1)
	if [ -z "$line" ]; then
		problem "$what: no KUnit results (see $log)"
		failed=$((failed + 1))
		return
	fi
	p=$(sed -n 's/.*passed: \([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.*failed: \([0-9]*\).*/\1/p' <<<"$line")
	add "${p:-0}" "${f:-0}"
	[ "${f:-0}" = 0 ] || problem "$what: ${f} KUnit case(s) failed"
	echo "$what: $line"
}

# ok / not ok lines of a top-level TAP stream; a skip ("ok N ... # SKIP")
# is neither a pass nor a failure, and is said.
count_tap() {
	local tap=$1 what=$2 p f s plan
	if [ ! -s "$tap" ]; then
		problem "$what: no results"
		failed=$((failed + 1))
		return
	fi
	p=$(grep -cE '^ok [0-9]+' "$tap")
	s=$(grep -cE '^ok [0-9]+.*# SKIP' "$tap")
	f=$(grep -cE '^not ok [0-9]+' "$tap")
	plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$tap" | head -n1)
	if [ -n "$plan" ] && [ $((p + f)) -lt "$plan" ]; then
		problem "$what: only $((p + f)) of $plan tests reported (crash or timeout?)"
		f=$((f + plan - p - f))
	fi
	add $((p - s)) "$f"
	[ "$f" = 0 ] || problem "$what: $f test(s) failed: $(grep -E '^not ok' "$tap" | cut -d' ' -f4- | tr '\n' ' ')"
	echo "$what: $((p - s)) passed, $f failed$([ "$s" = 0 ] || echo ", $s skipped")"
}

# KVM or TCG: probed once, before the guests start, into the cache
# vramsim-run reads (build/guest), so that neither guest probes again.
accel=$("$repo/tools/testing/vramsim/vramsim-accel" "$KOBJ/arch/x86/boot/bzImage" "$repo/build/guest")

# --- 0. the build set-up, on the host -----------------------------------
echo "==> Host: build set-up"
"$repo/scripts/test-build-setup.sh" > "$results/build-setup.tap" 2>&1
count_tap "$results/build-setup.tap" "build set-up checks"

# --- 1. gpu_buddy through kunit.py, on the debug kernel -------------------
# The suite is built into the debug kernel (.kunitconfig is part of
# configs/vramsim.config): "kunit.py exec" boots that kernel as it is, with
# no configuration or build step of its own, and parses the results.  The
# buddy allocator vramsim depends on thus runs under KASAN and lockdep too.
# Its one case marked KUNIT_CASE_SLOW, fragmentation_performance, times
# 2 x 65536 allocations and reports milliseconds: 3 s on the production
# kernel, 8.5 minutes here (and the hung-task detector fires as it runs).
# KUnit's attribute filter reports it skipped; "make kunit-buddy" runs the
# whole suite, that case too, on the production kernel.
echo "==> KUnit: gpu_buddy (kunit.py exec --arch=x86_64, debug kernel)"
t0=$(date +%s)
VRAMSIM_ACCEL=$accel timeout 900 "$repo/scripts/kunit-exec.sh" "$KSRC" "$KOBJ" --timeout=600 \
	--filter 'speed>slow' --filter_action=skip 'gpu_buddy*' \
	> "$results/kunit-gpu_buddy.log" 2>&1
kunit_rc=$?
kunit_secs=$(($(date +%s) - t0))

# --- 2. everything else in two guest boots, one after the other -----------
# Each guest has two vCPUs (the concurrency the suites race needs) and the
# host two cores.  Side by side, the guests took about three times as long
# each as alone (2026-12-07: guest b's migration suite 230 s beside guest
# a, 73 s alone; the fuzzer 60 calls/s beside it, 150 alone): under TCG a
# vCPU whose host thread is switched out holds up the other, which waits
# for its IPIs and spins on the locks it holds, and nothing tells the
# guest.  So one guest at a time; both cores are its own.
echo "==> Two guests (debug kernels), one after the other: a) $VARIANT${A_OPTS:+ ($A_OPTS)}: module tests, vramsim KUnit, the first policy's suites, fault injection, stress; b) $VARIANT_B${B_OPTS:+ ($B_OPTS)}: the last policy's suites, fuzzed ioctls; each ends with a kmemleak scan"
guest() {
	local kobj=$KOBJ mods=$GUEST opts=()
	read -r -a opts <<<"$A_OPTS"
	if [ "$1" = b ]; then
		kobj=$KOBJ_B
		mods=$GUEST_B
		read -r -a opts <<<"$B_OPTS"
	fi
	# A hang guard, not a budget: a guest took 50 minutes in CI before
	# the suites of 2026-12-06, which add several per guest.
	"$repo/tools/testing/vramsim/vramsim-run" --kernel "$kobj/arch/x86/boot/bzImage" \
		--modules "$mods" --timeout 4800 --log "$results/guest-$1.log" --quiet \
		-- "$repo/tools/testing/vramsim/guest/test.sh" "$results" "$1" "${opts[@]}"
}
declare -A guest_rc guest_secs
t_start=$(date +%s)
guest a
guest_rc[a]=$?
guest_secs[a]=$(($(date +%s) - t_start))
t_b=$(date +%s)
guest b 2>&1 | tee "$results/guest-b.out"
guest_rc[b]=$?
guest_secs[b]=$(($(date +%s) - t_b))

# --- 3. the runner's deterministic, self-contained mode (make bench's; the
# --- runner's own mechanics, so any kernel will do: the debug one) -------
echo "==> Runner: deterministic self-contained boots"
runner() {
	"$repo/tools/testing/vramsim/vramsim-run" --kernel "$KOBJ/arch/x86/boot/bzImage" \
		--modules "$GUEST" --deterministic --smp 1 --timeout 300 --quiet \
		--self-contained "$pack" "$@"
}
runner_check() {
	if [ "$1" = 0 ]; then
		passed=$((passed + 1)); echo "ok: $2"
	else
		failed=$((failed + 1)); problem "runner: $2"
	fi
}
pack=$results/runner-pack
rm -rf "$pack" "$results/runner-out"
mkdir -p "$pack"
echo "vramsim $$" > "$pack/hello"
rc=0
runner --collect "$results/runner-out" --log "$results/runner-self.log" \
	-- sh -c 'cp /hello /out/ && exit 3' > /dev/null 2>&1 || rc=$?
cmp -s "$pack/hello" "$results/runner-out/hello" && [ $rc = 3 ]
runner_check $? "self-contained boot: the job's status (3, got $rc) and its /out files come back"
rc=0
runner --collect "$results/runner-out" --log "$results/runner-pin.log" \
	--pin-boot not-this-boot -- true > /dev/null 2> "$results/runner-pin.err" || rc=$?
[ $rc = 75 ] && grep -qE '^VRAMSIM_BOOT=[0-9a-f-]{36}' "$results/runner-pin.log"
runner_check $? "--pin-boot stops a boot in another state (exit 75, got $rc) after it printed its state"

for g in a b; do
	[ "${guest_rc[$g]}" = 0 ] ||
		{ problem "guest $g failed (status ${guest_rc[$g]}, see $results/guest-$g.log)"; failed=$((failed + 1)); }
	check_splats "$results/guest-$g.log" "guest $g's run"
done

echo "==> KUnit: gpu_buddy"
grep -E '^\[..:..:..\] (=|\[|Testing|Ran)' "$results/kunit-gpu_buddy.log" | sed 's/^\[..:..:..\] /    /' | tail -n 25
count_kunit "$results/kunit-gpu_buddy.log" "KUnit gpu_buddy"
[ $kunit_rc = 0 ] || grep -q 'failed: [1-9]' "$results/kunit-gpu_buddy.log" ||
	{ problem "kunit.py exited with $kunit_rc (see $results/kunit-gpu_buddy.log)"; failed=$((failed + 1)); }
check_splats "$KOBJ/test.log" "the gpu_buddy KUnit run"

# Each guest wrote its plan (guest/test.sh): every result file it was to
# write; one that is missing counts as a failure.
count_ktap() {
	local ktap=$1 what=$2 log=${1%.ktap}.log
	if [ ! -s "$ktap" ]; then
		problem "$what: no KTAP output"
		failed=$((failed + 1))
		return
	fi
	python3 "$KSRC/tools/testing/kunit/kunit.py" parse "$ktap" > "$log" 2>&1
	sed -n 's/^\[..:..:..\] /    /p' "$log" | grep -vE '^    =+$' | tail -n 32
	count_kunit "$log" "$what"
}
for g in a b; do
	if [ ! -s "$results/plan-$g.txt" ]; then
		problem "guest $g wrote no plan: its results cannot be counted"
		failed=$((failed + 1))
		continue
	fi
	echo "== guest $g ($([ $g = a ] && echo "$VARIANT" || echo "$VARIANT_B"))"
	while read -r kind file what; do
		case "$kind" in
		tap) count_tap "$results/$file" "$what" ;;
		ktap) count_ktap "$results/$file" "$what" ;;
		esac
	done < "$results/plan-$g.txt"
done

# Where the minutes went: the build steps (make test's, BUILD_TIMES) and
# each guest's steps (guest/test.sh's times-a.txt and times-b.txt), wall
# seconds, biggest first.  KUnit, then the guests, one at a time.
echo
echo "==> Wall time, seconds"
if [ -s "${BUILD_TIMES:-}" ]; then
	cp "$BUILD_TIMES" "$results/times-build.txt"
	echo "  build (in turn):"
	sed 's/^/    /' "$results/times-build.txt"
fi
for g in a b; do
	[ -s "$results/times-$g.txt" ] || continue
	echo "  guest $g (${guest_secs[$g]} s in all):"
	sort -rn "$results/times-$g.txt" | sed 's/^/    /'
done
echo "  KUnit gpu_buddy (before the guests): $kunit_secs"
# Each selftest's own time: from the result before it (or the suite's
# start) to its own, from the suites' *.times files (guest/test.sh).
for f in "$results"/*.times; do
	[ -s "$f" ] || continue
	awk -F'\t' -v s="$(basename "$f" .times)" 'NR > 1 { n = $2; sub(/^(not )?ok [0-9]+ /, "", n); print $1 - t "\t" s ": " substr(n, 1, 70) } { t = $1 }' "$f"
done | sort -rn > "$results/times-tests.txt"
if [ -s "$results/times-tests.txt" ]; then
	echo "  the slowest selftests (all: times-tests.txt):"
	head -n 12 "$results/times-tests.txt" | sed 's/^/    /'
fi
echo "  make test from the guests' start: $(($(date +%s) - t_start))"

echo
if [ ${#problems[@]} -gt 0 ]; then
	echo "Problems:"
	printf '  - %s\n' "${problems[@]}"
fi
echo "Results and logs: $results"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
