#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The source tree of a kernel variant (docs/variants.md): Debian's tree as
# "make src" prepared it (build/linux: vramsim hooked in, patches/ applied)
# plus the variant's own queue, patches/variants/NAME/*.patch, in
# build/variants/NAME/linux.  The copy shares every file it does not patch
# with build/linux (hard links: patch(1) writes a patched file anew, so the
# stock tree never changes).  Its object directories sit beside it with the
# same relative path to the source as the stock ones (../linux), so that
# ccache, which keeps paths relative to the repository, serves every file
# the queue does not touch from the stock kernel's build.
# Rebuilt from scratch when the queue or the stock tree changed.
# Usage: variant-tree.sh NAME REPO
set -euo pipefail

name=$1
repo=$2
stock=$repo/build/linux
dir=$repo/build/variants/$name
queue=$repo/patches/variants/$name

[ -d "$queue" ] || { echo "variant-tree: no patch queue $queue" >&2; exit 1; }
[ -f "$stock/Makefile" ] || { echo "variant-tree: $stock is missing (make src)" >&2; exit 1; }

shopt -s nullglob
patches=("$queue"/*.patch)
# What the tree is made of: the stock tree's own patches and hooks, and
# the queue; of a patch, its change (git patch-id --stable, as
# patch-tree.sh knows it), not its changelog or diffstat.
stamp=$(for f in "$repo"/patches/*.patch "$repo"/patches/drm/*.patch "${patches[@]}"; do
		id=$(git patch-id --stable < "$f" | cut -d' ' -f1)
		echo "${id:-$(sha256sum < "$f")}"
	done | cat - "$stock/drivers/gpu/drm/Kconfig" "$stock/drivers/gpu/drm/Makefile" |
	sha256sum | cut -d' ' -f1)
if [ -f "$dir/linux/.vramsim-variant" ] &&
   [ "$(cat "$dir/linux/.vramsim-variant")" = "$stamp" ]; then
	exit 0
fi

echo "==> Source tree of variant $name: build/linux + ${#patches[@]} patch(es) from patches/variants/$name"
rm -rf "$dir/linux.new" "$dir/linux"
mkdir -p "$dir"
cp -al "$stock" "$dir/linux.new"
rm -f "$dir/linux.new/.vramsim-variant"
for p in "${patches[@]}"; do
	if ! patch -d "$dir/linux.new" -p1 -N -s --no-backup-if-mismatch < "$p"; then
		echo "variant-tree: $(basename "$p") does not apply" >&2
		exit 1
	fi
	echo "    $(basename "$p")"
done
# patch(1) must have replaced, not rewritten, the files it patched.
for p in "${patches[@]}"; do
	for f in $(sed -n 's|^+++ b/||p' "$p"); do
		if [ "$dir/linux.new/$f" -ef "$stock/$f" ]; then
			echo "variant-tree: $f is still shared with the stock tree" >&2
			exit 1
		fi
	done
done
# A header the queue only adds function declarations to changes no object
# that includes it (decl-only-headers.py): with its stock modification
# time, a variant object directory that starts as a copy of the stock one
# (variant-seed.sh) rebuilds none of them.  Only for a variant with no
# object directory yet: one built against an earlier queue may hold
# objects that an earlier change of the header did change.
if ! compgen -G "$dir/obj*" > /dev/null; then
	for f in $(python3 "$repo/scripts/decl-only-headers.py" "${patches[@]}"); do
		touch -r "$stock/$f" "$dir/linux.new/$f"
		echo "    $f: declarations only, stock time kept"
	done
fi
echo "$stamp" > "$dir/linux.new/.vramsim-variant"
mv "$dir/linux.new" "$dir/linux"
