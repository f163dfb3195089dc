#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host checks of the build set-up, as TAP, for make test: what a machine
# that never built vramsim gets from the Makefile.
#   1. The kernel is compiled through ccache even when ccache is not
#      installed yet when make reads the Makefile ("make deps" installs it
#      before the first compile).  Deciding at parse time built a fresh
#      machine's kernel with plain gcc, and the next make, seeing another
#      CC, rebuilt all of it (25 minutes instead of 26 s).
#   2. KBUILD_BUILD_TIMESTAMP is a date date(1) understands (the kernel
#      build runs "date -d" on it; "vramsim" printed an error every build).
#   3. The same for the debug kernel's make invocation.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
make=$(command -v make)

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1"; shift; for m in "$@"; do echo "# $m"; done; }

# The value of a Makefile variable, as a recipe would see it, with a PATH
# that has the few tools the Makefile runs while parsing, and no ccache.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
for t in sh echo nproc; do ln -s "$(type -P $t)" "$bin/$t"; done
var() {
	env -i HOME="$HOME" PATH="$bin" "$make" -s --no-print-directory \
		-f "$repo/Makefile" --eval 'print-%: ; @echo $($*)' "print-$1"
}

echo "TAP version 13"
echo "1..3"

cc=$(var CC_WRAP)
if [ "$cc" = "ccache gcc" ]; then
	ok "kernel builds use ccache even if it is installed after make starts"
else
	not_ok "kernel builds use ccache even if it is installed after make starts" \
		"CC_WRAP is '$cc' when ccache is not on PATH at parse time"
fi

ts=$(var KBUILD_BUILD_TIMESTAMP)
if [ -n "$ts" ] && date -d "$ts" >/dev/null 2>&1; then
	ok "KBUILD_BUILD_TIMESTAMP ('$ts') is a date"
else
	not_ok "KBUILD_BUILD_TIMESTAMP ('$ts') is a date" "date -d '$ts' fails"
fi

km=$(var KMAKE_DEBUG)
case "$km" in
*'O='*obj-debug*'CC=ccache gcc'*) ok "the debug kernel builds in its own object directory through ccache" ;;
*) not_ok "the debug kernel builds in its own object directory through ccache" "KMAKE_DEBUG: $km" ;;
esac

[ "$fails" = 0 ]
