#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the self-contained guest root for the benchmark (see run.sh): the
# modules, a static vramsim_bench, perf with every library it loads, and
# guest.sh.  usage: pack.sh PACKDIR MODULESROOT TOOLSDIR
set -euo pipefail
pack=$1
modules=$2
tools=$3
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/bench" "$pack/lib"
cp -r "$modules/lib/modules" "$pack/lib/"
cp "$tools/vramsim_bench.static" "$pack/bin/vramsim_bench"
cp "$here/guest.sh" "$pack/bench/"

perf=$(ls /usr/bin/perf_[0-9]* 2>/dev/null | sort -V | tail -n1 || true)
[ -n "$perf" ] || perf=$(command -v perf)
cp "$perf" "$pack/bin/perf"
# The libraries and the dynamic loader, at the paths perf asks for them.
ldd "$perf" | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
	cp --parents -L "$lib" "$pack"
done
du -sh "$pack" | awk '{ print "==> bench guest root: " $1 }'
