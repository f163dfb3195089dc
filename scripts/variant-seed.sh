#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# variant-seed.sh NAME REPO DIR: start variant NAME's object directory DIR
# (obj or obj-debug, docs/variants.md) as a copy of the stock kernel's,
# when the variant has none yet and the stock one is built.  make then
# rebuilds only what the variant's queue changed: the files it patches and
# the objects that include a header it changes, except a header it only
# adds function declarations to (scripts/decl-only-headers.py), which
# variant-tree.sh left with its stock modification time.  For the fix
# variant that is a few objects instead of the 757 that include
# include/linux/memremap.h: half of a cold debug kernel build.
# The copy's command files name the stock tree as their source; they are
# rewritten to name the variant's, which make then compares with.
set -euo pipefail

name=$1
repo=$2
which=$3
stock_src=$repo/build/linux
src=$repo/build/variants/$name/linux
stock_obj=$repo/build/$which
obj=$repo/build/variants/$name/$which

[ -d "$obj" ] && exit 0
[ -f "$stock_obj/vmlinux" ] && [ -f "$stock_obj/.config" ] || exit 0
[ -f "$src/.vramsim-variant" ] || { echo "variant-seed: $src is missing (variant-tree.sh)" >&2; exit 1; }

echo "==> Object directory of variant $name ($which): a copy of the stock kernel's"
rm -rf "$obj.new"
cp -a "$stock_obj" "$obj.new"
# Every path of the stock source tree and object directory, as whole path
# components (objtool's build names its objects by absolute path: left as
# they were, it would rebuild objtool, and with it every kernel object).
find "$obj.new" \( -name '*.cmd' -o -name '*.d' -o -name Makefile \) -type f -print0 |
	xargs -0 -r perl -pi -e "s{\Q$stock_src\E(?=[/\s:'\"]|\$)}{$src}g;
		s{\Q$stock_obj\E(?=[/\s:'\"]|\$)}{$obj}g"
ln -sfn "$src" "$obj.new/source"
if grep -rqsE --include='*.cmd' --include='*.d' "($stock_src|$stock_obj)/" "$obj.new"; then
	echo "variant-seed: $obj.new still names $stock_src or $stock_obj" >&2
	exit 1
fi
mv "$obj.new" "$obj"
