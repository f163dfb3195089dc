#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fail if an option the fragment asks for did not make it into .config
# (an unmet dependency silently drops it).  Usage: check-config.sh CONFIG FRAGMENT
set -euo pipefail
config=$1
fragment=$2
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		sym=${line%%=*}
		if grep -q "^$sym=" "$config"; then
			echo "check-config: $sym should be off but is $(grep "^$sym=" "$config")" >&2
			missing=1
		fi ;;
	CONFIG_*=*)
		if ! grep -qxF "$line" "$config"; then
			got=$(grep "^${line%%=*}=" "$config" || echo "not set")
			echo "check-config: wanted $line, got $got" >&2
			missing=1
		fi ;;
	esac
done < "$fragment"
[ "$missing" = 0 ] || { echo "check-config: unmet dependencies above; see make menuconfig" >&2; exit 1; }
echo "==> Kernel config OK ($(grep -c '=[ym]$' "$config") options on)"
