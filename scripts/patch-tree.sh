#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply the core fixes in patches/ to the Debian kernel tree vramsim
# unpacked (build/linux), so that the kernels vramsim builds carry them.
# Idempotent: a patch that is already in the tree is left alone.  A tree
# of your own (make KSRC=...) is never patched: the fixes are listed
# instead.  Usage: patch-tree.sh KSRC REPO OWN_TREE(0|1)
set -euo pipefail

ksrc=$1
repo=$2
own=${3:-0}

shopt -s nullglob
# What is applied, one "sha256 name" line per patch: a patch whose context
# a later one changes no longer reverse-applies, so that test works only
# for the patches applied before this list existed (in order, before the
# later ones go in).
applied=$ksrc/.vramsim-patches
[ "$own" = 1 ] || touch "$applied"
# patches/: the mm fixes of the series; patches/drm/: DRM core fixes,
# posted on their own.
# A patch is known by its change, git patch-id --stable (the diff without
# line numbers, index lines or whitespace): a changed changelog or
# diffstat applies nothing new.  A file patch-id finds no diff in is
# known by its whole content.  Lists written before 2026-12-08 hold the
# sum of the whole file, or of everything from its first "---" line:
# those are taken too.
patch_key() {
	local id
	id=$(git patch-id --stable < "$1" | cut -d' ' -f1)
	[ -n "$id" ] || id=$(sha256sum < "$1" | cut -d' ' -f1)
	echo "$id"
}
for p in "$repo"/patches/*.patch "$repo"/patches/drm/*.patch; do
	name=$(basename "$p")
	sum=$(patch_key "$p")
	old=$(sha256sum < "$p" | cut -d' ' -f1)
	tail=$(sed -n '/^---$/,$p' "$p" | sha256sum | cut -d' ' -f1)
	if [ -f "$applied" ] &&
	   grep -qxF -e "$sum $name" -e "$old $name" -e "$tail $name" "$applied"; then
		continue
	fi
	if patch -d "$ksrc" -p1 -R -s -f --dry-run < "$p" >/dev/null 2>&1; then
		[ "$own" = 1 ] || echo "$sum $name" >> "$applied"
		continue
	fi
	if [ "$own" = 1 ]; then
		echo "==> $ksrc lacks $name (not applied to a tree of your own)"
		continue
	fi
	if ! patch -d "$ksrc" -p1 -N -s --dry-run < "$p" >/dev/null; then
		echo "patch-tree: $name does not apply to $ksrc" >&2
		exit 1
	fi
	patch -d "$ksrc" -p1 -N -s < "$p"
	echo "$sum $name" >> "$applied"
	echo "==> Applied $name to $ksrc"
done
