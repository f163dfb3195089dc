/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Put before hmm-tests.c when it is built (gcc -include), which stays as
 * the kernel tree has it: the kselftest harness, with a per-test time
 * limit of 180 s instead of 30.  30 s are meant for hardware: in the test
 * guests (TCG, KASAN, lockdep), migrate_multiple and migrate_remap_fault
 * take 15-19 s alone on the machine, and 44-45 s against test_hmm with a
 * kernel build beside the guest (2026-12-07).
 * TEST_F() expands the limit where hmm-tests.c uses it, so this one holds;
 * the harness' own include of itself is then a no-op.
 */
#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 180
