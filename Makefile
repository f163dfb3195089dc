# SPDX-License-Identifier: GPL-2.0
#
# vramsim: build Linux 7.3 with the vramsim driver, boot it in QEMU, test
# and benchmark it.  The two commands a newcomer needs:
#
#   make run     build what is missing, boot, load vramsim, show it working
#   make test    KUnit (gpu_buddy + vramsim) and the userspace selftests
#
# Other targets: make shell, make kernel, make module, make tools,
# make check (checkpatch/W=1/sparse), make clean, make distclean.
# KSRC=/path/to/linux-7.x uses that tree instead of Debian's linux-source-7.3.

REPO    := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD   := $(REPO)/build
KSRC    ?= $(BUILD)/linux
KOBJ    ?= $(BUILD)/obj
GUEST   := $(BUILD)/guest
TOOLS_OUT := $(BUILD)/tools
JOBS    ?= $(shell nproc)
export CCACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/vramsim/ccache
export CCACHE_MAXSIZE ?= 4G
export CCACHE_COMPILERCHECK ?= content
# Hits across clones in other directories (CI clones afresh every time).
export CCACHE_BASEDIR ?= $(REPO)
export CCACHE_NOHASHDIR ?= 1
export KBUILD_BUILD_TIMESTAMP ?= vramsim
export KBUILD_BUILD_USER ?= vramsim
export KBUILD_BUILD_HOST ?= vramsim

CC_WRAP := $(if $(shell command -v ccache),ccache gcc,gcc)
KMAKE   := $(MAKE) -C $(KSRC) O=$(KOBJ) ARCH=x86_64 CC="$(CC_WRAP)" -j$(JOBS)
BZIMAGE := $(KOBJ)/arch/x86/boot/bzImage
RUNNER  := $(REPO)/tools/testing/vramsim/vramsim-run

.PHONY: all deps src kernel module modules tools run shell test bench bench-quick \
	check clean distclean help
all: kernel tools

help:
	@sed -n '3,13p' $(REPO)/Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(REPO)/scripts/install-deps.sh

# --- Kernel source -------------------------------------------------------
$(BUILD)/linux/Makefile: | deps
	@$(REPO)/scripts/fetch-kernel.sh $(BUILD)/linux

src: deps $(KSRC)/Makefile
	@$(REPO)/scripts/hook-tree.sh $(KSRC) $(REPO)

# --- Kernel config: tinyconfig + configs/vramsim.config --------------------
$(KOBJ)/.config: $(REPO)/configs/vramsim.config $(REPO)/drivers/gpu/drm/vramsim/Kconfig | src
	@echo "==> Configuring the kernel (tinyconfig + configs/vramsim.config) in $(KOBJ)"
	@mkdir -p $(KOBJ)
	@$(KMAKE) -s tinyconfig >/dev/null
	@cd $(KOBJ) && KCONFIG_CONFIG=.config $(KSRC)/scripts/kconfig/merge_config.sh \
		-m -O $(KOBJ) .config $(REPO)/configs/vramsim.config >/dev/null
	@$(KMAKE) -s olddefconfig >/dev/null
	@$(REPO)/scripts/check-config.sh $(KOBJ)/.config $(REPO)/configs/vramsim.config

# --- Kernel and modules ---------------------------------------------------
kernel: $(KOBJ)/.config src
	@echo "==> Building bzImage and modules (cold: ~10-15 min, warm: ~1 min)"
	@$(KMAKE) bzImage modules
	@rm -rf $(GUEST)/lib/modules
	@$(KMAKE) -s INSTALL_MOD_PATH=$(GUEST) INSTALL_MOD_STRIP=1 modules_install >/dev/null

# The driver alone: the kernel is left as it is.
module modules: $(KOBJ)/.config src
	@$(KMAKE) drivers/gpu/drm/vramsim/ modules
	@$(KMAKE) -s INSTALL_MOD_PATH=$(GUEST) INSTALL_MOD_STRIP=1 modules_install >/dev/null

# Userspace selftests and benchmark, run in the guest.
tools: $(KOBJ)/.config src
	@$(KMAKE) -s headers
	@$(MAKE) -s -C $(REPO)/tools/testing/vramsim KSRC=$(KSRC) \
		HDR=$(KOBJ)/usr/include OUT=$(TOOLS_OUT)

# --- Running ----------------------------------------------------------------
run: kernel tools
	@mkdir -p $(BUILD)/logs
	@echo "==> Booting Linux in QEMU (console log: $(BUILD)/logs/run-console.log)"
	@$(RUNNER) --kernel $(BZIMAGE) --modules $(GUEST) --quiet \
		--log $(BUILD)/logs/run-console.log -- $(REPO)/tools/testing/vramsim/guest/run.sh

shell: kernel tools
	@$(RUNNER) --kernel $(BZIMAGE) --modules $(GUEST) --shell

test: kernel tools
	@KSRC=$(KSRC) KOBJ=$(KOBJ) GUEST=$(GUEST) TOOLS_OUT=$(TOOLS_OUT) \
		CC_WRAP="$(CC_WRAP)" JOBS=$(JOBS) $(REPO)/scripts/test.sh

# The benchmark matrix: two guest boots (deterministic, wall-clock) under
# perf; results in bench/results/<date>/ and docs/benchmarks.md.
bench: kernel tools
	@KOBJ=$(KOBJ) GUEST=$(GUEST) TOOLS_OUT=$(TOOLS_OUT) $(REPO)/bench/run.sh full

bench-quick: kernel tools
	@KOBJ=$(KOBJ) GUEST=$(GUEST) TOOLS_OUT=$(TOOLS_OUT) $(REPO)/bench/run.sh quick

check: $(KOBJ)/.config src
	@KSRC=$(KSRC) KOBJ=$(KOBJ) CC_WRAP="$(CC_WRAP)" $(REPO)/scripts/check.sh

clean:
	rm -rf $(TOOLS_OUT) $(GUEST)
	-[ -d $(KOBJ) ] && $(KMAKE) -s M=drivers/gpu/drm/vramsim clean

distclean:
	rm -rf $(BUILD)
