#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test: every test of vramsim, ending with "N passed, N failed".
# KOBJ/GUEST are the debug kernel's (KASAN, lockdep, DEBUG_VM, kmemleak,
# UBSAN, fault injection: configs/debug.config).
#   0. host checks of the build set-up (scripts/test-build-setup.sh)
#   1. KUnit, upstream gpu_buddy suite: kunit.py run --arch=x86_64 on the
#      kernel already built (kunit.py only runs built-in suites)
#   2. one guest boot (tools/testing/vramsim/guest/test.sh): module tests,
#      the vramsim KUnit suites (a module, like the driver; parsed with
#      kunit.py parse), then under both prepare policies the migration,
#      concurrency, mm-operation and fault-injection selftests, a short
#      stress run, 10^5 fuzzed ioctls, a benchmark smoke run and a final
#      kmemleak scan
#   3. the runner's deterministic, self-contained mode (make bench's)
# Any kernel splat (WARN, BUG, oops, KASAN, lockdep, UBSAN, DEBUG_VM,
# debugobjects, hung task, RCU stall) in a guest log fails the run.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
: "${KSRC:?}" "${KOBJ:?}" "${KOBJ_PROD:?}" "${GUEST:?}" "${GUEST_PROD:?}" "${TOOLS_OUT:?}" "${CC_WRAP:?}" "${JOBS:=2}"
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

# ok / not ok lines of a top-level TAP stream.
count_tap() {
	local tap=$1 what=$2 p f plan
	if [ ! -s "$tap" ]; then
		problem "$what: no results"
		failed=$((failed + 1))
		return
	fi
	p=$(grep -cE '^ok [0-9]+' "$tap")
	f=$(grep -cE '^not ok [0-9]+' "$tap")
	plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$tap" | head -n1)
	if [ -n "$plan" ] && [ $((p + f)) -lt "$plan" ]; then
		problem "$what: only $((p + f)) of $plan tests reported (crash or timeout?)"
		f=$((f + plan - p - f))
	fi
	add "$p" "$f"
	[ "$f" = 0 ] || problem "$what: $f test(s) failed: $(grep -E '^not ok' "$tap" | cut -d' ' -f4- | tr '\n' ' ')"
	echo "$what: $p passed, $f failed"
}

accel=$("$repo/tools/testing/vramsim/vramsim-accel" "$KOBJ/arch/x86/boot/bzImage" "$GUEST")

# --- 0. the build set-up, on the host -----------------------------------
echo "==> Host: build set-up"
"$repo/scripts/test-build-setup.sh" > "$results/build-setup.tap" 2>&1
count_tap "$results/build-setup.tap" "build set-up checks"

# --- 1. gpu_buddy through kunit.py, on the production kernel ---------------
# (the upstream suite, as before; its guest needs no vramsim, and its
# performance cases are not meant for a KASAN+lockdep kernel under TCG)
echo "==> KUnit: gpu_buddy (kunit.py run --arch=x86_64)"
# kunit.py regenerates .config unless it has seen this kunitconfig before:
# record it as used, so it reuses the build instead of making its own.
{ printf 'CONFIG_SERIAL_8250=y\nCONFIG_SERIAL_8250_CONSOLE=y\n'; grep '^CONFIG_' "$repo/.kunitconfig"; } \
	> "$KOBJ_PROD/last_used_kunitconfig"
# kunit.py asks QEMU for KVM first; where KVM hangs, hide it from QEMU.
wrap=$GUEST/qemu-wrap
mkdir -p "$wrap"
cat > "$wrap/qemu-system-x86_64" <<WRAP
#!/bin/bash
args=()
while [ \$# -gt 0 ]; do
	if [ "\$1" = -accel ] && [ "$accel" = tcg ] && [ "\$2" != tcg ]; then shift 2; continue; fi
	args+=("\$1"); shift
done
exec $(command -v qemu-system-x86_64) "\${args[@]}"
WRAP
chmod +x "$wrap/qemu-system-x86_64"
(cd "$KSRC" && PATH="$wrap:$PATH" timeout 900 python3 tools/testing/kunit/kunit.py run \
	--arch=x86_64 --build_dir="$KOBJ_PROD" --kunitconfig="$repo/.kunitconfig" \
	--make_options="CC=$CC_WRAP" --jobs="$JOBS" --timeout=600 'gpu_buddy*') \
	> "$results/kunit-gpu_buddy.log" 2>&1
kunit_rc=$?
grep -E '^\[..:..:..\] (=|\[|Testing|Ran)' "$results/kunit-gpu_buddy.log" | sed 's/^\[..:..:..\] /    /' | tail -n 25
count_kunit "$results/kunit-gpu_buddy.log" "KUnit gpu_buddy"
[ $kunit_rc = 0 ] || grep -q 'failed: [1-9]' "$results/kunit-gpu_buddy.log" ||
	{ problem "kunit.py exited with $kunit_rc (see $results/kunit-gpu_buddy.log)"; failed=$((failed + 1)); }
check_splats "$KOBJ_PROD/test.log" "the gpu_buddy KUnit run"

# --- 2. everything else in one guest boot --------------------------------
echo "==> Guest (debug kernel): module tests, vramsim KUnit, selftests, stress, fuzz, kmemleak"
"$repo/tools/testing/vramsim/vramsim-run" --kernel "$KOBJ/arch/x86/boot/bzImage" \
	--modules "$GUEST" --timeout 5000 --log "$results/guest.log" --quiet \
	-- "$repo/tools/testing/vramsim/guest/test.sh" "$results"
guest_rc=$?
[ $guest_rc = 0 ] || { problem "guest run failed (status $guest_rc, see $results/guest.log)"; failed=$((failed + 1)); }
check_splats "$results/guest.log" "the guest run"

count_tap "$results/module.tap" "module tests"
if [ -s "$results/kunit.ktap" ]; then
	python3 "$KSRC/tools/testing/kunit/kunit.py" parse "$results/kunit.ktap" \
		> "$results/kunit-vramsim.log" 2>&1
	sed -n 's/^\[..:..:..\] /    /p' "$results/kunit-vramsim.log" | grep -vE '^    =+$' | tail -n 30
	count_kunit "$results/kunit-vramsim.log" "KUnit vramsim"
else
	problem "KUnit vramsim: no KTAP output"
	failed=$((failed + 1))
fi
for policy in scrub none; do
	count_tap "$results/migrate-$policy.tap" "migration selftests (prepare=$policy)"
	count_tap "$results/race-$policy.tap" "concurrency selftests (prepare=$policy)"
	count_tap "$results/mm-$policy.tap" "mm-operation selftests (prepare=$policy)"
done
count_tap "$results/fault-scrub.tap" "fault-injection selftests (prepare=scrub)"
count_tap "$results/stress.tap" "stress, short run"
count_tap "$results/fuzz.tap" "ioctl fuzzer"
count_tap "$results/bench-smoke.tap" "benchmark smoke run"
count_tap "$results/kmemleak.tap" "kmemleak scan"

# --- 3. the runner's deterministic, self-contained mode (make bench's, so
# --- on the production kernel make bench boots) -------------------------
echo "==> Runner: deterministic self-contained boots"
runner() {
	"$repo/tools/testing/vramsim/vramsim-run" --kernel "$KOBJ_PROD/arch/x86/boot/bzImage" \
		--modules "$GUEST_PROD" --deterministic --smp 1 --timeout 300 --quiet \
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

echo
if [ ${#problems[@]} -gt 0 ]; then
	echo "Problems:"
	printf '  - %s\n' "${problems[@]}"
fi
echo "Results and logs: $results"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
