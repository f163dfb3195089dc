#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit-exec.sh KSRC KOBJ [kunit.py exec options]: boot the kernel built in
# KOBJ as it is ("kunit.py exec": no configuration or build step of its
# own) and run the KUnit suites built into it, through the kernel tree's
# own tools/testing/kunit/kunit.py.  kunit.py asks QEMU for KVM before
# TCG; where /dev/kvm exists but hangs (these machines), a wrapper hides
# KVM from QEMU (vramsim-accel probes which one works, and caches it where
# vramsim-run looks).
set -euo pipefail
ksrc=${1:?usage: kunit-exec.sh KSRC KOBJ [kunit.py exec options]}
kobj=${2:?usage: kunit-exec.sh KSRC KOBJ [kunit.py exec options]}
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
wrap=$kobj/qemu-wrap
accel=$("$repo/tools/testing/vramsim/vramsim-accel" "$kobj/arch/x86/boot/bzImage" "$repo/build/guest")
mkdir -p "$wrap"
cat > "$wrap/qemu-system-x86_64" <<WRAP
#!/bin/bash
args=()
while [ \$# -gt 0 ]; do
	if [ "\$1" = -accel ] && [ "$accel" = tcg ] && [ "\$2" != tcg ]; then shift 2; continue; fi
	args+=("\$1"); shift
done
exec $(command -v qemu-system-x86_64) "\${args[@]}"
WRAP
chmod +x "$wrap/qemu-system-x86_64"
cd "$ksrc"
PATH="$wrap:$PATH" exec python3 tools/testing/kunit/kunit.py exec --arch=x86_64 \
	--build_dir="$kobj" --kunitconfig="$repo/.kunitconfig" "$@"
