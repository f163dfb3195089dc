#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What "make test" runs inside the guest, one boot for all of it.  Each
# suite's TAP/KTAP goes to a file in $1 for the host to count:
#   module.tap              module load/unload, parameters, debugfs
#   kunit-<policy>.ktap     the vramsim KUnit suites (vramsim_kunit.ko)
#   migrate-<policy>.tap    migration selftests, with prepare=<policy>
#   bench-smoke.tap         the benchmark tool on tiny sizes
set -u
out=${1:?usage: test.sh RESULTDIR}
here=$(cd "$(dirname "$0")" && pwd)
tools=${VRAMSIM_TOOLS:-$(cd "$here/../../../.." && pwd)/build/tools}
mkdir -p "$out"

unload() { rmmod vramsim_kunit 2>/dev/null; rmmod vramsim 2>/dev/null; true; }

echo "== module tests"
"$here/../vramsim_module_test.sh" | tee "$out/module.tap"

echo "== KUnit: vramsim suites (vramsim_kunit.ko)"
unload
dmesg -c >/dev/null
modprobe vramsim_kunit
dmesg --notime | sed -n '/KTAP version 1/,$p' > "$out/kunit.ktap"
rmmod vramsim_kunit
cat "$out/kunit.ktap"

for policy in scrub none; do
	echo "== migration selftests, prepare=$policy"
	unload
	if modprobe vramsim vram_size=64M prepare=$policy; then
		"$tools/vramsim_migrate_test" | tee "$out/migrate-$policy.tap"
	else
		printf 'TAP version 13\n1..1\nnot ok 1 modprobe vramsim prepare=%s\n' \
			"$policy" > "$out/migrate-$policy.tap"
	fi
	unload
done

if [ -x "$tools/vramsim_bench" ]; then
	echo "== benchmark smoke run"
	modprobe vramsim vram_size=64M
	if "$tools/vramsim_bench" --smoke > "$out/bench-smoke.log" 2>&1; then
		printf 'TAP version 13\n1..1\nok 1 vramsim_bench --smoke\n'
	else
		printf 'TAP version 13\n1..1\nnot ok 1 vramsim_bench --smoke\n'
		cat "$out/bench-smoke.log"
	fi | tee "$out/bench-smoke.tap"
	unload
fi
exit 0
