#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: what a dri-devel reviewer runs first, on vramsim's files.
#   checkpatch.pl --strict, kernel-doc -Wall, make W=1 C=2 (sparse), and an
#   out-of-tree build (make -C $KOBJ M=...) of the driver and its tests;
#   and the driver's layers (scripts/check-layers.py): its files include and
#   call only files below them, by their #include lines and by nm of the
#   objects the out-of-tree build made.
# Fails if any of them says anything.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
: "${KSRC:?}" "${KOBJ:?}" "${CC_WRAP:=gcc}"
cd "$repo"
files=$(ls drivers/gpu/drm/vramsim/*.[ch] drivers/gpu/drm/vramsim/tests/*.[ch] \
	include/uapi/drm/vramsim_drm.h 2>/dev/null | tr '\n' ' ')
tools=$(ls tools/testing/vramsim/*.[ch] | tr '\n' ' ')
fail=0
run() {
	local name=$1; shift
	local out
	out=$("$@" 2>&1)
	if [ -n "$out" ]; then
		echo "==> $name: FAILED"
		echo "$out" | sed 's/^/    /'
		fail=1
	else
		echo "==> $name: clean"
	fi
}

run "checkpatch --strict" sh -c "perl '$KSRC/scripts/checkpatch.pl' --no-tree --strict --terse -f $files $tools | grep -E 'ERROR|WARNING|CHECK'"
run "kernel-doc -Wall" perl "$KSRC/scripts/kernel-doc" -none -Wall $files
run "layers (includes)" python3 "$repo/scripts/check-layers.py"

# W=1 and sparse on every vramsim object (touch them so they rebuild).
sparse=$("$repo/scripts/fetch-sparse.sh" "$KSRC") || { echo "==> sparse: not available"; exit 1; }
touch drivers/gpu/drm/vramsim/*.c drivers/gpu/drm/vramsim/tests/*.c
run "make W=1 C=2 CHECK=$sparse" sh -c "make -s -C '$KSRC' O='$KOBJ' ARCH=x86_64 CC='$CC_WRAP' \
	W=1 C=2 CHECK='$sparse' drivers/gpu/drm/vramsim/ 2>&1 | grep -vE '^ *(CC|CHECK|LD|AR)\b' | grep -E 'warning|error|:[0-9]+:'"

# Out of tree, into a scratch directory, against the configured tree.
ext=$(mktemp -d)
cp -r drivers/gpu/drm/vramsim/. "$ext/"
cp include/uapi/drm/vramsim_drm.h "$ext/"
run "out-of-tree build (make -C \$KOBJ M=...)" sh -c "make -s -C '$KOBJ' M='$ext' \
	KCFLAGS='-I$ext' CC='$CC_WRAP' modules 2>&1 | grep -vE '^ *(CC|LD|MODPOST)\b' | grep -E 'warning|error' ;
	[ -f '$ext/vramsim.ko' ] && [ -f '$ext/tests/vramsim_kunit.ko' ] || echo 'modules not built'"
run "layers (symbols of the objects)" python3 "$repo/scripts/check-layers.py" --objects "$ext"
rm -rf "$ext"

[ $fail = 0 ] && echo "all checks clean"
exit $fail
