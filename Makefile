# SPDX-License-Identifier: GPL-2.0
#
# vramsim: build Linux 7.3 with the vramsim driver, boot it in QEMU, test
# and benchmark it.  The two commands a newcomer needs:
#
#   make run     build what is missing, boot, load vramsim, show it working
#   make test    every test (KUnit, selftests, stress, fuzz, fault
#                injection) on debug kernels (KASAN, lockdep, DEBUG_VM...):
#                7.3 and 7.3 with the mm fixes
#
# Other targets: make shell, make kernel, make kernel-debug, make module,
# make tools, make stress, make kunit-buddy, make bench, make bench-debate
# (the three placements of the prepare step side by side), make check
# (checkpatch/W=1/sparse), make patches and make patches-check (the
# upstream series), make clean, make distclean.
# VARIANT=stock|fix|core picks the kernel (docs/variants.md).
# KSRC=/path/to/linux-7.x uses that tree instead of Debian's linux-source-7.3.

REPO    := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD   := $(REPO)/build

# Kernel variants (docs/variants.md): where a freed device folio's struct
# pages are reset.  stock is Debian's 7.3 with patches/; the others add
# their queue, patches/variants/NAME/, in build/variants/NAME/, a tree and
# object directories of their own:
#   stock  7.3: the next allocation reinitialises (prepare=alloc), or the
#          driver does in ->folio_free (prepare=driver)
#   fix    stock + the mm fixes: zone_device_page_init() leaves nothing
#          stale, pfn walks no longer trust a free folio's order
#   core   stock + the core reset before ->folio_free(folio, order)
#          (prepare=core)
VARIANTS := stock fix core
VARIANT ?= stock
# A tree of your own (make KSRC=...) is one kernel, not a variant.
KSRC_ORIGIN := $(origin KSRC)
ifeq ($(filter $(VARIANT),$(VARIANTS)),)
$(error VARIANT=$(VARIANT) is not a kernel variant: one of $(VARIANTS))
endif
ifeq ($(VARIANT),stock)
VDIR    := $(BUILD)
else
VDIR    := $(BUILD)/variants/$(VARIANT)
ifneq ($(origin KSRC),undefined)
$(error KSRC and VARIANT=$(VARIANT) do not go together: a variant is a tree of its own)
endif
endif
KSRC    ?= $(VDIR)/linux
KOBJ    ?= $(VDIR)/obj
GUEST   := $(VDIR)/guest
# The debug kernel: the same tree and fragment plus configs/debug.config,
# in its own object directory.  make test runs on it; run and bench don't.
KOBJ_DEBUG ?= $(VDIR)/obj-debug
GUEST_DEBUG := $(VDIR)/guest-debug
TOOLS_OUT := $(BUILD)/tools
JOBS    ?= $(shell nproc)
export CCACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/vramsim/ccache
export CCACHE_MAXSIZE ?= 4G
export CCACHE_COMPILERCHECK ?= content
# Hits across clones in other directories (CI clones afresh every time).
export CCACHE_BASEDIR ?= $(REPO)
export CCACHE_NOHASHDIR ?= 1
# Fixed so that rebuilds are reproducible; it must be a date date(1) parses.
export KBUILD_BUILD_TIMESTAMP ?= 2026-01-01 00:00:00 UTC
export KBUILD_BUILD_USER ?= vramsim
export KBUILD_BUILD_HOST ?= vramsim

# ccache is one of the packages "deps" installs, so every kernel build uses
# it: deciding at parse time, before deps ran, built a fresh machine's first
# kernel with plain gcc and rebuilt all of it at the next make (CC changed).
CC_WRAP := ccache gcc
KMAKE_FOR = $(MAKE) -C $(KSRC) O=$(1) ARCH=x86_64 CC="$(CC_WRAP)" -j$(JOBS)
KMAKE   := $(call KMAKE_FOR,$(KOBJ))
KMAKE_DEBUG := $(call KMAKE_FOR,$(KOBJ_DEBUG))
BZIMAGE := $(KOBJ)/arch/x86/boot/bzImage
BZIMAGE_DEBUG := $(KOBJ_DEBUG)/arch/x86/boot/bzImage
RUNNER  := $(REPO)/tools/testing/vramsim/vramsim-run

.PHONY: all deps src seed-obj seed-obj-debug kernel kernel-debug module module-debug modules tools run shell shell-debug \
	test kunit-buddy stress bench bench-debate bench-quick check patches patches-check \
	clean distclean help
all: kernel tools

help:
	@sed -n '3,18p' $(REPO)/Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(REPO)/scripts/install-deps.sh

# --- Kernel source -------------------------------------------------------
$(BUILD)/linux/Makefile: | deps
	@$(REPO)/scripts/fetch-kernel.sh $(BUILD)/linux

# The core fixes in patches/ go into Debian's tree, not into one of yours.
src: deps $(if $(filter stock,$(VARIANT)),$(KSRC),$(BUILD)/linux)/Makefile
ifeq ($(VARIANT),stock)
	@$(REPO)/scripts/hook-tree.sh $(KSRC) $(REPO)
	@$(REPO)/scripts/patch-tree.sh $(KSRC) $(REPO) $(if $(filter $(BUILD)/linux,$(KSRC)),0,1)
else
	@$(REPO)/scripts/hook-tree.sh $(BUILD)/linux $(REPO)
	@$(REPO)/scripts/patch-tree.sh $(BUILD)/linux $(REPO) 0
	@$(REPO)/scripts/variant-tree.sh $(VARIANT) $(REPO)
endif

# --- Kernel config: tinyconfig + configs/vramsim.config [+ debug.config] ----
# $(call kconfig,OBJDIR,FRAGMENTS)
define kconfig
	@echo "==> Configuring the kernel (tinyconfig + $(notdir $(2))) in $(1)"
	@mkdir -p $(1)
	@$(call KMAKE_FOR,$(1)) -s tinyconfig >/dev/null
	@cd $(1) && KCONFIG_CONFIG=.config $(KSRC)/scripts/kconfig/merge_config.sh \
		-m -O $(1) .config $(2) >/dev/null
	@$(call KMAKE_FOR,$(1)) -s olddefconfig >/dev/null
	@for f in $(2); do $(REPO)/scripts/check-config.sh $(1)/.config $$f || exit 1; done
endef
CONFIG_DEPS := $(REPO)/configs/vramsim.config $(REPO)/drivers/gpu/drm/vramsim/Kconfig

$(KOBJ)/.config: $(CONFIG_DEPS) | src
	$(call kconfig,$(KOBJ),$(REPO)/configs/vramsim.config)

$(KOBJ_DEBUG)/.config: $(CONFIG_DEPS) $(REPO)/configs/debug.config | src
	$(call kconfig,$(KOBJ_DEBUG),$(REPO)/configs/vramsim.config $(REPO)/configs/debug.config)

# A variant's first object directory is a copy of the stock kernel's, if
# that is built (scripts/variant-seed.sh): make test's fix kernel then
# rebuilds what its queue changed, not half the kernel.  Made before make
# looks at the copy's .config, which is then up to date: configuring it
# again would make kbuild rebuild everything.
SEED    = $(if $(filter stock,$(VARIANT)),,seed-$(1))
seed-obj seed-obj-debug: src
	@$(REPO)/scripts/variant-seed.sh $(VARIANT) $(REPO) $(@:seed-%=%)

# --- Kernel and modules ---------------------------------------------------
kernel: $(call SEED,obj) $(KOBJ)/.config src
	@echo "==> Building bzImage and modules (cold: ~10-15 min, warm: ~1 min)"
	@$(KMAKE) bzImage modules
	@rm -rf $(GUEST)/lib/modules
	@$(KMAKE) -s INSTALL_MOD_PATH=$(GUEST) INSTALL_MOD_STRIP=1 modules_install >/dev/null

kernel-debug: $(call SEED,obj-debug) $(KOBJ_DEBUG)/.config src
	@echo "==> Building the debug kernel (KASAN, lockdep, DEBUG_VM...; cold: ~15-20 min)"
	@$(KMAKE_DEBUG) bzImage modules
	@rm -rf $(GUEST_DEBUG)/lib/modules
	@$(KMAKE_DEBUG) -s INSTALL_MOD_PATH=$(GUEST_DEBUG) modules_install >/dev/null

# The driver alone: the kernel is left as it is.
module modules: $(KOBJ)/.config src
	@$(KMAKE) drivers/gpu/drm/vramsim/ modules
	@$(KMAKE) -s INSTALL_MOD_PATH=$(GUEST) INSTALL_MOD_STRIP=1 modules_install >/dev/null

module-debug: $(KOBJ_DEBUG)/.config src
	@$(KMAKE_DEBUG) drivers/gpu/drm/vramsim/ modules
	@$(KMAKE_DEBUG) -s INSTALL_MOD_PATH=$(GUEST_DEBUG) modules_install >/dev/null

# Userspace selftests and benchmark, run in the guest.  The uapi headers
# need no kernel configuration: their own object directory, so that the
# tools build with either kernel, or none.
# A variant's uapi is the stock tree's: the tools come from that one.
HDR_OBJ := $(BUILD)/hdr
TOOLS_SRC := $(if $(filter stock,$(VARIANT)),$(KSRC),$(BUILD)/linux)
tools: src
	@$(MAKE) -s -C $(TOOLS_SRC) O=$(HDR_OBJ) ARCH=x86_64 headers
	@$(MAKE) -s -C $(REPO)/tools/testing/vramsim KSRC=$(TOOLS_SRC) \
		HDR=$(HDR_OBJ)/usr/include OUT=$(TOOLS_OUT)

# --- Running ----------------------------------------------------------------
run: kernel tools
	@mkdir -p $(BUILD)/logs
	@echo "==> Booting Linux in QEMU (console log: $(BUILD)/logs/run-console.log)"
	@$(RUNNER) --kernel $(BZIMAGE) --modules $(GUEST) --quiet \
		--log $(BUILD)/logs/run-console.log -- $(REPO)/tools/testing/vramsim/guest/run.sh

shell: kernel tools
	@$(RUNNER) --kernel $(BZIMAGE) --modules $(GUEST) --shell

shell-debug: kernel-debug tools
	@$(RUNNER) --kernel $(BZIMAGE_DEBUG) --modules $(GUEST_DEBUG) --shell

# Every test runs on debug kernels, the upstream gpu_buddy KUnit suite
# (kunit.py) included: make test builds no production kernel.  Plain
# "make test" runs its two guests on two variants: a on stock (7.3, the
# first policy, driver), b on fix (the mm fixes, the last policy, alloc),
# the KUnit suites on both; "make test VARIANT=name" runs both on one, as
# does a tree of your own (KSRC=).  The 36,000 fuzzed ioctls are split to
# even the guests out (10^5 until 2026-12-08: docs/testing.md, "Timings").
ifeq ($(origin VARIANT)$(KSRC_ORIGIN),fileundefined)
TEST_B  := fix
TEST_A_OPTS := fuzz=9000
TEST_B_OPTS := kunit fuzz=27000
else
TEST_B  := $(VARIANT)
TEST_A_OPTS :=
TEST_B_OPTS := $(if $(filter core,$(VARIANT)),solo)
endif
TEST_B_DIR := $(if $(filter stock,$(TEST_B)),$(BUILD),$(BUILD)/variants/$(TEST_B))
# Each build step is timed (scripts/timed.sh) for the table test.sh prints.
TEST_TIMES := $(BUILD)/test-build-times.txt
TIMED   = $(REPO)/scripts/timed.sh $(TEST_TIMES)
test: deps
	@rm -f $(TEST_TIMES)
	@$(TIMED) "source and debug kernel ($(VARIANT))" $(MAKE) --no-print-directory kernel-debug
	@$(TIMED) "tools" $(MAKE) --no-print-directory tools
ifneq ($(TEST_B),$(VARIANT))
	@$(TIMED) "debug kernel ($(TEST_B))" $(MAKE) --no-print-directory kernel-debug VARIANT=$(TEST_B)
endif
	@KSRC=$(KSRC) KOBJ=$(KOBJ_DEBUG) GUEST=$(GUEST_DEBUG) TOOLS_OUT=$(TOOLS_OUT) \
		VARIANT=$(VARIANT) KOBJ_B=$(TEST_B_DIR)/obj-debug GUEST_B=$(TEST_B_DIR)/guest-debug \
		VARIANT_B=$(TEST_B) A_OPTS="$(TEST_A_OPTS)" B_OPTS="$(TEST_B_OPTS)" \
		BUILD_TIMES=$(TEST_TIMES) $(REPO)/scripts/test.sh

# The upstream gpu_buddy KUnit suite, all of it, on the production kernel
# (make test runs it on the debug kernel, without its one slow case).
kunit-buddy: kernel
	@$(REPO)/scripts/kunit-exec.sh $(KSRC) $(KOBJ) --timeout=600 'gpu_buddy*'

# Long stress run on the debug kernel: make stress STRESS_ARGS="--ops N --seed S"
STRESS_ARGS ?= --minutes 30
stress: kernel-debug tools
	@mkdir -p $(BUILD)/stress
	@$(RUNNER) --kernel $(BZIMAGE_DEBUG) --modules $(GUEST_DEBUG) --timeout 0 \
		--log $(BUILD)/stress/console.log --quiet -- \
		$(REPO)/tools/testing/vramsim/guest/stress.sh $(BUILD)/stress $(STRESS_ARGS)

# The benchmark matrix: two guest boots (deterministic, wall-clock) under
# perf; results in bench/results/<date>/ and docs/benchmarks.md.
bench: kernel tools
	@KOBJ=$(KOBJ) GUEST=$(GUEST) TOOLS_OUT=$(TOOLS_OUT) $(REPO)/bench/run.sh full

# Every placement of the prepare step on its kernel (docs/debate.md): the
# production kernels of every variant, one deterministic boot each.
bench-debate: tools
	@for v in $(VARIANTS); do $(MAKE) --no-print-directory kernel VARIANT=$$v || exit 1; done
	@TOOLS_OUT=$(TOOLS_OUT) $(REPO)/bench/debate.sh

bench-quick: kernel tools
	@KOBJ=$(KOBJ) GUEST=$(GUEST) TOOLS_OUT=$(TOOLS_OUT) $(REPO)/bench/run.sh quick

# The upstream series (docs/patches.md): git format-patch output against
# Debian's clean 7.3 tree in build/patches/, and its check: every patch
# applies, builds (bisectable) and is checkpatch --strict clean; the last
# kernel boots and passes vramsim's KUnit suites and selftests.
patches: deps
	@python3 $(REPO)/scripts/series.py $(REPO)

patches-check: patches
	@$(REPO)/scripts/patches-check.sh $(REPO)

check: $(KOBJ)/.config src
	@KSRC=$(KSRC) KOBJ=$(KOBJ) CC_WRAP="$(CC_WRAP)" $(REPO)/scripts/check.sh

clean:
	rm -rf $(TOOLS_OUT) $(GUEST)
	-[ -d $(KOBJ) ] && $(KMAKE) -s M=drivers/gpu/drm/vramsim clean

distclean:
	rm -rf $(BUILD)
