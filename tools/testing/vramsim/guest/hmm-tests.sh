#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hmm-tests.sh [POLICY|test_hmm] [hmm-tests options]: the upstream
# device-private suite, tools/testing/selftests/mm/hmm-tests built
# unmodified from the kernel tree (make tools), in the guest.
#
# With a prepare= policy (driver, alloc, core; default: the kernel's
# default), against vramsim: two devices of 64 MiB, whose dmirror nodes
# /dev/vramsim_dmirror0 and 1 are linked to the names hmm-tests opens,
# /dev/hmm_dmirror0 and 1.  With test_hmm, against test_hmm, the
# reference.  Either module is loaded for the run and unloaded after it.
# The TAP goes to standard output; the exit status is hmm-tests'.
#
#   make shell-debug
#   tools/testing/vramsim/guest/hmm-tests.sh alloc
set -u
here=$(cd "$(dirname "$0")" && pwd)
tools=${VRAMSIM_TOOLS:-$(cd "$here/../../../.." && pwd)/build/tools}
target=${1:-default}
[ $# -gt 0 ] && shift

if [ -d /sys/module/vramsim ] || [ -d /sys/module/test_hmm ]; then
	echo "hmm-tests.sh: unload vramsim and test_hmm first" >&2
	exit 2
fi
if [ ! -x "$tools/hmm-tests" ]; then
	echo "hmm-tests.sh: no $tools/hmm-tests (make tools)" >&2
	exit 2
fi
rm -f /dev/hmm_dmirror[0-3]
if [ "$target" = test_hmm ]; then
	modprobe test_hmm || exit 2
else
	params="vram_size=64M num_devices=2"
	[ "$target" = default ] || params="$params prepare=$target"
	modprobe vramsim $params || exit 2
	for i in 0 1; do
		ln -s /dev/vramsim_dmirror$i /dev/hmm_dmirror$i
	done
fi

# Two hugetlbfs pages for anon_write_hugetlbfs and compound (each maps
# one), given back after.
huge=/proc/sys/vm/nr_hugepages
[ -w $huge ] && nr_huge=$(cat $huge) && echo $((nr_huge + 2)) > $huge

# hmm-tests writes its scratch files (file_read, file_write) in its cwd.
cd /tmp && "$tools/hmm-tests" "$@"
rc=$?

[ -n "${nr_huge:-}" ] && echo "$nr_huge" > $huge

rm -f /dev/hmm_dmirror[0-3]
if [ "$target" = test_hmm ]; then
	rmmod test_hmm
else
	rmmod vramsim
fi
exit $rc
