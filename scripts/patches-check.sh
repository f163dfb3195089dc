#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make patches-check: does the series in build/patches/ (make patches) hold
# up on a clean 7.3 tree?
#
#  1. A clean checkout of the series tree's base (Debian's 7.3 tree as it
#     comes), build/series/check/linux; each patch is applied with git am.
#  2. After each patch: checkpatch --strict (clean: no error, warning or
#     check; only UNKNOWN_COMMIT_ID is ignored, because the tree has no
#     history to look the Fixes: ids up in), the kernel and its modules
#     built (the debug configuration of make test: KASAN, lockdep,
#     DEBUG_VM), and where the patch touches vramsim, vramsim again with
#     W=1 and sparse (C=2) and its kernel-doc: no warning.
#  3. After the selftests' patch, they are built with the kselftest
#     makefiles: no warning.
#  4. The last kernel is booted: vramsim's KUnit suites must pass, and
#     make -C tools/testing/selftests TARGETS=drivers/gpu/vramsim run_tests
#     must report no failure (the suites of $PATCHES_CHECK_SUITES, default
#     "migrate race mm evict": the others run in make test on the same
#     code), and no skip that patches/series/expected-skips does not list.
#
# Usage: patches-check.sh REPO.  Log: build/series/check/check.log.
set -euo pipefail

repo=$1
series=$repo/build/series/linux
patches=$repo/build/patches
work=$repo/build/series/check
tree=$work/linux
# Beside the tree, as in the other builds: ccache (base_dir = the
# repository) then sees ../linux/... paths and shares their objects.
obj=$work/obj
guest=$work/guest
jobs=${JOBS:-$(nproc)}
suites=${PATCHES_CHECK_SUITES:-migrate race mm evict}

msg() { printf '==> %s\n' "$*"; }
fail() { printf 'patches-check: FAIL: %s\n' "$*" >&2; exit 1; }

[ -d "$series/.git" ] && [ -d "$patches" ] || fail "no series: run make patches first"
mapfile -t list < <(ls "$patches"/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-cover-letter.patch$')
[ "${#list[@]}" -gt 0 ] || fail "no patches in $patches"

mkdir -p "$work"
# A worktree of the series tree; made again if that tree was made again.
if ! git -C "$tree" rev-parse -q --verify base >/dev/null 2>&1 ||
   [ "$(git -C "$tree" rev-parse base)" != "$(git -C "$series" rev-parse base)" ]; then
	msg "Checking out a clean tree in $tree"
	rm -rf "$tree"
	git -C "$series" worktree prune
	git -C "$series" worktree add -q --detach "$tree" base
fi
git -C "$tree" am --abort >/dev/null 2>&1 || true
git -C "$tree" checkout -q -f --detach base
git -C "$tree" clean -q -f -d -x
git -C "$tree" config user.name "vramsim patches-check"
git -C "$tree" config user.email "vramsim@localhost"

kmake() { make -s -C "$tree" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$jobs" "$@"; }

# The configuration of make test's debug kernel, merged again after every
# patch: the driver's options exist only once its Kconfig does.
configure() {
	mkdir -p "$obj"
	kmake tinyconfig >/dev/null
	(cd "$obj" && KCONFIG_CONFIG=.config "$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		.config "$repo/configs/vramsim.config" "$repo/configs/debug.config" >/dev/null)
	kmake olddefconfig >/dev/null
}

# Nothing but the "total: 0 errors, 0 warnings, 0 checks" line.
checkpatch() {
	local out

	out=$(cd "$tree" && ./scripts/checkpatch.pl --strict --ignore UNKNOWN_COMMIT_ID "$1" 2>&1) || true
	if ! grep -q '^total: 0 errors, 0 warnings, 0 checks' <<<"$out"; then
		printf '%s\n' "$out" >&2
		fail "checkpatch --strict: $(basename "$1")"
	fi
}

# W=1, sparse and kernel-doc on vramsim: no warning at all.
check_vramsim() {
	local out

	out=$(kmake W=1 C=2 drivers/gpu/drm/vramsim/ 2>&1) || { printf '%s\n' "$out" >&2; fail "W=1 C=2 build of vramsim"; }
	if grep -E 'warning|error' <<<"$out"; then
		fail "W=1/sparse warnings in vramsim after $(basename "$1")"
	fi
	out=$(cd "$tree" && ./scripts/kernel-doc -Wall -none drivers/gpu/drm/vramsim/*.[ch] \
		drivers/gpu/drm/vramsim/tests/*.c include/uapi/drm/vramsim_drm.h 2>&1)
	[ -z "$out" ] || { printf '%s\n' "$out" >&2; fail "kernel-doc warnings after $(basename "$1")"; }
}

selftests_built=0
build_selftests() {
	local out

	kmake headers >/dev/null
	out=$(make -s -C "$tree/tools/testing/selftests" TARGETS=drivers/gpu/vramsim \
		KHDR_INCLUDES="-isystem $obj/usr/include" 2>&1) ||
		{ printf '%s\n' "$out" >&2; fail "selftests do not build"; }
	if grep -E 'warning|error' <<<"$out"; then
		fail "selftests build with warnings"
	fi
	selftests_built=1
}

n=0
for p in "${list[@]}"; do
	n=$((n + 1))
	name=$(basename "$p")
	msg "[$n/${#list[@]}] $name"
	git -C "$tree" am -q "$p" || fail "$name does not apply"
	checkpatch "$p"
	configure
	t0=$(date +%s)
	kmake bzImage modules || fail "$name: the kernel does not build"
	msg "      builds ($(($(date +%s) - t0)) s), checkpatch --strict clean"
	files=$(git -C "$tree" show --name-only --format= HEAD)
	if grep -q '^drivers/gpu/drm/vramsim/' <<<"$files"; then
		grep -qx 'CONFIG_DRM_VRAMSIM=m' "$obj/.config" || fail "$name: CONFIG_DRM_VRAMSIM is not m"
		grep -qx 'CONFIG_DRM_VRAMSIM_KUNIT_TEST=m' "$obj/.config" ||
			fail "$name: CONFIG_DRM_VRAMSIM_KUNIT_TEST is not m"
		check_vramsim "$p"
		msg "      vramsim: W=1, sparse and kernel-doc clean"
	fi
	if grep -q '^tools/testing/selftests/drivers/gpu/vramsim/' <<<"$files" ||
	   { [ $selftests_built = 1 ] && grep -q '^include/uapi/' <<<"$files"; }; then
		build_selftests
		msg "      selftests build without warnings"
	fi
done
[ $selftests_built = 1 ] || fail "no patch adds the selftests"

msg "Booting the series' kernel: KUnit, then the selftests ($suites) through kselftest"
rm -rf "$guest"
kmake INSTALL_MOD_PATH="$guest" modules_install >/dev/null
result=$work/result
rm -rf "$result"
mkdir -p "$result"
"$repo/tools/testing/vramsim/vramsim-run" --kernel "$obj/arch/x86/boot/bzImage" \
	--modules "$guest" --timeout 3000 --quiet --log "$work/console.log" -- \
	"$repo/scripts/patches-check-guest.sh" "$tree" "$result" "$suites" ||
	fail "the guest run failed (console: $work/console.log)"
kunit=$result/kunit.ktap
grep -q '^ok .* vramsim' "$kunit" && ! grep -q '^not ok' "$kunit" ||
	{ cat "$kunit" >&2; fail "vramsim's KUnit suites"; }
run=$result/selftests.log
grep -Eq '^ok [0-9]+ selftests: drivers/gpu/vramsim: vramsim.sh' "$run" ||
	{ cat "$run" >&2; fail "make ... TARGETS=drivers/gpu/vramsim run_tests"; }
# Each suite's totals, in the runner's "# " prefix: every suite asked for
# ran, and none failed.
for s in $suites; do
	grep -q "^# # $s: modprobe vramsim" "$run" || { cat "$run" >&2; fail "selftest suite $s did not run"; }
done
totals=$(grep -E '^# # Totals: ' "$run" || true)
[ "$(wc -l <<<"$totals")" = "$(wc -w <<<"$suites")" ] && ! grep -Eq 'fail:[1-9]|error:[1-9]' <<<"$totals" ||
	{ cat "$run" >&2; fail "selftest totals: $totals"; }
# A skip is a failure unless patches/series/expected-skips lists it, with
# its reason: a test that quietly stops running (gup_odirect did, for want
# of a file) must not pass for one that ran.
expected=$repo/patches/series/expected-skips
skips=$(sed -nE 's/^# # ok [0-9]+ ([^ ]+) # SKIP.*/\1/p' "$run")
for t in $skips; do
	grep -Eq "^$t[[:space:]]+[^[:space:]]" "$expected" 2>/dev/null ||
		{ grep -E "^# # ok [0-9]+ $t # SKIP" "$run" >&2; fail "selftest $t skipped, and patches/series/expected-skips does not say why it may"; }
done
pass=$(sed -nE 's/^# # Totals: pass:([0-9]+).*/\1/p' "$run" | awk '{ n += $1 } END { print n }')
kpass=$(sed -nE 's/^# Totals: pass:([0-9]+).*/\1/p' "$kunit" | tail -n1)
msg "KUnit: $kpass cases passed; selftests ($suites): $pass tests passed, none failed"
msg "patches-check: ${#list[@]} patches apply, build, are checkpatch --strict clean; the series' kernel passes"
