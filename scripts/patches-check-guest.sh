#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In the guest of make patches-check, on the series' kernel: vramsim's
# KUnit suites, then its selftests the kselftest way.
# Usage: patches-check-guest.sh TREE RESULTDIR "SUITES"
set -u
tree=$1
out=$2
suites=$3

echo "== KUnit: vramsim_kunit"
dmesg -c >/dev/null
modprobe vramsim_kunit
dmesg --notime | sed -n '/KTAP version 1/,$p' > "$out/kunit.ktap"
rmmod vramsim_kunit
[ -d /sys/module/vramsim ] && rmmod vramsim
cat "$out/kunit.ktap"

echo "== make -C tools/testing/selftests TARGETS=drivers/gpu/vramsim run_tests ($suites)"
# The kselftest runner writes the tests' output to /dev/stdout, which a
# guest without udev lacks: it would be a new regular file in devtmpfs.
for fd in 0:stdin 1:stdout 2:stderr; do
	[ -e "/dev/${fd#*:}" ] || ln -s "/proc/self/fd/${fd%%:*}" "/dev/${fd#*:}"
done
VRAMSIM_TESTS=$suites make -C "$tree/tools/testing/selftests" TARGETS=drivers/gpu/vramsim \
	run_tests 2>&1 | cat > "$out/selftests.log"
echo "make exited with ${PIPESTATUS[0]}" >> "$out/selftests.log"
cat "$out/selftests.log"
