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
#   4. Every kernel variant's object directories reach its source tree as
#      ../linux, as the stock ones do: ccache keeps paths relative to the
#      repository, so only then does a variant kernel reuse the stock
#      kernel's objects (docs/variants.md; 1,414 of 1,420 hits).
#   5. An unknown VARIANT stops make with a message.
#   6. A variant's queue is in its tree and not in the stock tree (the
#      variant tree shares unpatched files with it by hard links), when
#      the trees have been made.
#   7. Which kernel make test's guest b boots: fix by default, the same
#      as guest a with VARIANT= or a tree of your own (KSRC=: it once
#      went on to build the fix variant, which refuses a KSRC, and
#      stopped).
#   8. Which headers a variant's first object directory, copied from the
#      stock one (variant-seed.sh), need not rebuild the users of
#      (decl-only-headers.py): one that the queue only adds a function
#      declaration to, never one with any other change (an inline, a
#      macro, a changed or removed line).
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
	local v=$1
	shift
	env -i HOME="$HOME" PATH="$bin" "$make" -s --no-print-directory \
		-f "$repo/Makefile" --eval 'print-%: ; @echo $($*)' "print-$v" "$@"
}

echo "TAP version 13"
echo "1..8"

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

bad=
for v in stock fix core; do
	src=$(var KSRC VARIANT=$v)
	for o in KOBJ KOBJ_DEBUG; do
		obj=$(var $o VARIANT=$v)
		rel=$(realpath -m --relative-to="$obj" "$src")
		[ "$rel" = ../linux ] || bad="$bad $v:$o=$rel"
	done
done
if [ -z "$bad" ]; then
	ok "every variant's object directories reach its tree as ../linux (ccache hits)"
else
	not_ok "every variant's object directories reach its tree as ../linux (ccache hits)" "$bad"
fi

out=$(var KSRC VARIANT=nosuch 2>&1)
if [ $? -ne 0 ] && grep -q 'VARIANT=nosuch is not a kernel variant' <<<"$out"; then
	ok "an unknown VARIANT stops make with a message"
else
	not_ok "an unknown VARIANT stops make with a message" "got: $out"
fi

bad=
checked=0
for q in "$repo"/patches/variants/*/; do
	v=$(basename "$q")
	tree=$repo/build/variants/$v/linux
	[ -f "$tree/.vramsim-variant" ] && [ -d "$repo/build/linux" ] || continue
	# The variant's copies of the files its queue touches, with the
	# queue reverted last patch first (a later patch may rework what an
	# earlier one added), must be the stock tree's files.
	tmp=$(mktemp -d)
	mapfile -t files < <(sed -n 's|^+++ b/||p' "$q"*.patch | sort -u)
	for f in "${files[@]}"; do
		mkdir -p "$tmp/$(dirname "$f")"
		cp "$tree/$f" "$tmp/$f" 2>/dev/null || bad="$bad $v/$f:missing"
	done
	for p in $(ls -r "$q"*.patch); do
		checked=$((checked + 1))
		patch -d "$tmp" -p1 -R -s -f --no-backup-if-mismatch < "$p" >/dev/null 2>&1 ||
			{ bad="$bad $v/$(basename "$p"):not-in-variant"; break; }
		patch -d "$repo/build/linux" -p1 -R -s -f --dry-run < "$p" >/dev/null 2>&1 &&
			bad="$bad $v/$(basename "$p"):in-stock"
	done
	for f in "${files[@]}"; do
		cmp -s "$tmp/$f" "$repo/build/linux/$f" || bad="$bad $v/$f:not-stock-once-reverted"
	done
	rm -rf "$tmp"
done
if [ -z "$bad" ]; then
	ok "variant queues are in their trees and not in the stock tree ($checked patches checked)"
else
	not_ok "variant queues are in their trees and not in the stock tree" "$bad"
fi

got="$(var TEST_B) $(var TEST_B VARIANT=core) $(var TEST_B KSRC=/nonexistent/linux)"
if [ "$got" = "fix core stock" ]; then
	ok "make test's guest b: fix by default, the same kernel with VARIANT= or KSRC="
else
	not_ok "make test's guest b: fix by default, the same kernel with VARIANT= or KSRC=" \
		"TEST_B: '$got', want 'fix core stock'"
fi

# 8: the fix queue's memremap.h (one declaration), the core queue's (a
# changed one), and made-up changes of every other kind.
decl() { python3 "$repo/scripts/decl-only-headers.py" "$@"; }
hunk() {
	printf 'diff --git a/include/x.h b/include/x.h\n--- a/include/x.h\n+++ b/include/x.h\n@@ -1,1 +1,2 @@\n'
	printf '%s\n' "$@"
	printf -- '-- \n2.39.5\n'
}
t=$(mktemp -d)
hunk '+void a(int x,' '+	   int y);' '+extern long b(void);' > "$t/decl.patch"
hunk '+static inline int c(void) { return 1; }' > "$t/inline.patch"
hunk '+#define D 1' > "$t/macro.patch"
hunk '-void e(int x);' '+void e(long x);' > "$t/changed.patch"
got="$(decl "$repo"/patches/variants/fix/*.patch | tr '\n' ' ')|$(decl "$repo"/patches/variants/core/*.patch)"
got="$got|$(decl "$t/decl.patch")|$(decl "$t/inline.patch" "$t/macro.patch" "$t/changed.patch")"
rm -rf "$t"
if [ "$got" = "include/linux/memremap.h ||include/x.h|" ]; then
	ok "headers with only new declarations keep their users' objects; any other change rebuilds them"
else
	not_ok "headers with only new declarations keep their users' objects; any other change rebuilds them" \
		"got '$got', want 'include/linux/memremap.h ||include/x.h|'"
fi

[ "$fails" = 0 ]
