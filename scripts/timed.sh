#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# timed.sh FILE WHAT COMMAND [ARGS]: run COMMAND, then append its wall
# time to FILE as "seconds<TAB>WHAT" (make test's build steps: scripts/
# test.sh prints them with the suites' times).  Exits with its status.
file=$1
what=$2
shift 2
start=$(date +%s)
"$@"
rc=$?
printf '%s\t%s\n' "$(($(date +%s) - start))" "$what" >> "$file"
exit $rc
