// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection into vramsim, run in the guest with the module loaded and
 * a kernel with CONFIG_FAULT_INJECTION_DEBUG_FS, FAILSLAB, FAIL_PAGE_ALLOC
 * and FAULT_INJECTION_STACKTRACE_FILTER.
 *
 * failslab and fail_page_alloc only count allocations with vramsim.ko's code
 * on the call stack (require-start/require-end = the module's text, found in
 * its ELF file and /sys/module/vramsim/sections).  For one operation at a
 * time (a migration either way, or a CPU fault on a device page), the test
 * fails the n-th such allocation through /proc/thread-self/fail-nth, for
 * n = 1, 2, ... until the operation completes without the failure firing,
 * and after each run checks that the call completed or returned ENOMEM, that
 * every word of the buffer reads back what was written (through the CPU,
 * wherever the page was), that the counters agree with "moved", and that
 * the VRAM is back to where it was once the buffer is unmapped.
 *
 * A first run that fails nothing counts the points (fail-nth is a counter
 * too); the sweep then tries every n up to 32 and in the last 32 points,
 * and about 48 n at an odd stride between (every n with
 * VRAMSIM_FAULT_FULL=1), always ending with a run the failure did not reach.
 *
 * A failed buddy allocation must not look like a full VRAM: ENOSPC from
 * MIGRATE_TO_DEVICE with enough VRAM free is a failure of the test.  A CPU
 * fault whose allocation fails returns VM_FAULT_OOM, which the x86 fault
 * handler retries ("Huh VM_FAULT_OOM leaked out to the #PF handler" in the
 * log): the access must complete, with no SIGBUS.
 *
 * Last, random failures (10%, any task) while two threads migrate.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/elf.h>

#include "vramsim_drm.h"
#include "vramsim_lib.h"
#include "kselftest_harness.h"

#define TO_DEV	VRAMSIM_TO_DEV
#define TO_RAM	VRAMSIM_TO_RAM

#define SZ_4K	(4UL << 10)
#define SZ_64K	(64UL << 10)
#define SZ_2M	(2UL << 20)
#define SZ_4M	(4UL << 20)

#define DEBUGFS		"/sys/kernel/debug"
#define MOD_SYSFS	"/sys/module/vramsim"

/* A sweep that has not ended after this many runs is a failure of its own. */
#define MAX_NTH		20000
/* Details of the first few bad runs of a sweep go to the log. */
#define MAX_REPORTS	5

/* ---------------------------------------------------------------------- */
/* vramsim.ko's text                                                        */
/* ---------------------------------------------------------------------- */

/* Address of loaded section @name from /sys/module/vramsim/sections, or 0. */
static unsigned long section_addr(const char *name)
{
	char path[256];
	unsigned long addr = 0;
	FILE *f;

	snprintf(path, sizeof(path), MOD_SYSFS "/sections/%s", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lx", &addr) != 1)
		addr = 0;
	fclose(f);
	return addr;
}

/* The file modprobe loads for vramsim ($VRAMSIM_KO overrides). */
static int find_ko(char *path, size_t len)
{
	const char *env = getenv("VRAMSIM_KO");
	char line[1024];
	int found = -1;
	FILE *p;

	if (env) {
		snprintf(path, len, "%s", env);
		return 0;
	}
	p = popen("modprobe --show-depends vramsim 2>/dev/null", "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char *ko;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "insmod ", 7))
			continue;
		ko = line + 7;
		ko[strcspn(ko, " ")] = '\0';
		if (strstr(ko, "/vramsim.ko") && strlen(ko) < len) {
			strcpy(path, ko);
			found = 0;
		}
	}
	pclose(p);
	return found;
}

static void *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(struct elf64_hdr)) {
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/*
 * The module's text: every SHF_ALLOC | SHF_EXECINSTR section of the .ko that
 * is not init code (.text, .text.unlikely, .exit.text, .altinstr_replacement,
 * ...), which the loader places together in the module's MOD_TEXT region,
 * at the addresses /sys/module/vramsim/sections shows, with the sizes the
 * ELF file gives.  [start, end) covers all of vramsim's code and nothing
 * else: not its data, nor another module's text next to it.  The build-id
 * note of the file must match the loaded module's.
 */
static int ko_text_range(const char *ko, unsigned long *start,
			 unsigned long *end, char *err, size_t errlen)
{
	unsigned long lo = ~0UL, hi = 0;
	const struct elf64_shdr *sh;
	const struct elf64_hdr *eh;
	const char *names;
	bool id_checked = false;
	size_t len;
	char *elf;
	int i;

	elf = read_file(ko, &len);
	if (!elf) {
		snprintf(err, errlen, "cannot read %s", ko);
		return -1;
	}
	eh = (const struct elf64_hdr *)elf;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh) > len ||
	    eh->e_shstrndx >= eh->e_shnum) {
		snprintf(err, errlen, "%s: not a 64-bit ELF file", ko);
		goto fail;
	}
	sh = (const struct elf64_shdr *)(elf + eh->e_shoff);
	names = elf + sh[eh->e_shstrndx].sh_offset;

	for (i = 0; i < eh->e_shnum; i++) {
		const char *name = names + sh[i].sh_name;
		unsigned long addr;

		if (!strcmp(name, ".note.gnu.build-id") && sh[i].sh_offset + sh[i].sh_size <= len) {
			char path[128], note[256];
			ssize_t n;
			int fd;

			snprintf(path, sizeof(path), MOD_SYSFS "/notes/%s", name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				n = read(fd, note, sizeof(note));
				close(fd);
				if (n != (ssize_t)sh[i].sh_size ||
				    memcmp(note, elf + sh[i].sh_offset, n)) {
					snprintf(err, errlen,
						 "%s is not the loaded module (build id)", ko);
					goto fail;
				}
				id_checked = true;
			}
		}
		if ((sh[i].sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) != (SHF_ALLOC | SHF_EXECINSTR) ||
		    !sh[i].sh_size || !strncmp(name, ".init", 5))
			continue;
		addr = section_addr(name);
		if (!addr) {
			snprintf(err, errlen, "no address for section %s", name);
			goto fail;
		}
		if (addr < lo)
			lo = addr;
		if (addr + sh[i].sh_size > hi)
			hi = addr + sh[i].sh_size;
	}
	if (hi <= lo) {
		snprintf(err, errlen, "%s: no text sections", ko);
		goto fail;
	}
	*start = lo;
	*end = hi;
	snprintf(err, errlen, "%s%s", ko, id_checked ? ", build id matches" : "");
	free(elf);
	return 0;
fail:
	free(elf);
	return -1;
}

/*
 * Every text symbol /proc/kallsyms lists for [vramsim] must be in
 * [start, end): a cross-check of the range.  Returns how many there are, or
 * -1 with the first one outside in @err.
 */
static int kallsyms_check(unsigned long start, unsigned long end, char *err,
			  size_t errlen)
{
	char line[512], name[256], type;
	unsigned long addr;
	int n = 0;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "\t[vramsim]"))
			continue;
		if (sscanf(line, "%lx %c %255s", &addr, &type, name) != 3)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if (addr < start || addr >= end) {
			snprintf(err, errlen, "%s at %#lx is outside [%#lx, %#lx)", name, addr,
				 start, end);
			n = -1;
			break;
		}
		n++;
	}
	fclose(f);
	return n;
}

/* ---------------------------------------------------------------------- */
/* debugfs fault attributes                                                 */
/* ---------------------------------------------------------------------- */

#define FI_MAX_SAVED	128

struct fi_saved {
	char path[112];
	char val[32];
};

struct fi_state {
	int nr;
	struct fi_saved f[FI_MAX_SAVED];
	char dirs[8][32];
	int nr_dirs;
	unsigned long start, end;
};

static const char * const fi_files[] = {
	"probability", "interval", "times", "space", "verbose", "task-filter",
	"stacktrace-depth", "require-start", "require-end", "reject-start", "reject-end",
	"ignore-gfp-wait", "ignore-gfp-highmem", "min-order",
};

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static int fi_set(const struct fi_state *fi, const char *file, const char *val)
{
	char path[128];
	int i, err = 0;

	for (i = 0; i < fi->nr_dirs; i++) {
		snprintf(path, sizeof(path), DEBUGFS "/%s/%s", fi->dirs[i], file);
		if (access(path, F_OK))
			continue;
		err = write_str(path, val) ?: err;
	}
	return err;
}

static int fi_set_one(const char *dir, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), DEBUGFS "/%s/%s", dir, file);
	return write_str(path, val);
}

/*
 * Every fault attribute of the kernel (failslab, fail_page_alloc,
 * fail_usercopy, ...: the debugfs directories with a require-start): its
 * settings are saved, for fi_restore().
 */
static int fi_save(struct fi_state *fi)
{
	struct dirent *de;
	DIR *d;
	size_t i;

	fi->nr = 0;
	fi->nr_dirs = 0;
	d = opendir(DEBUGFS);
	if (!d)
		return -1;
	while ((de = readdir(d)) && fi->nr_dirs < 8) {
		char path[320];

		if (strncmp(de->d_name, "fail", 4) || strlen(de->d_name) >= sizeof(fi->dirs[0]))
			continue;
		snprintf(path, sizeof(path), DEBUGFS "/%s/require-start", de->d_name);
		if (access(path, F_OK))
			continue;
		strcpy(fi->dirs[fi->nr_dirs++], de->d_name);
	}
	closedir(d);

	for (i = 0; i < (size_t)fi->nr_dirs * ARRAY_SIZE(fi_files); i++) {
		struct fi_saved *s = &fi->f[fi->nr];
		char dir[32];
		FILE *f;

		memcpy(dir, fi->dirs[i / ARRAY_SIZE(fi_files)], sizeof(dir));
		snprintf(s->path, sizeof(s->path), DEBUGFS "/%.31s/%s", dir,
			 fi_files[i % ARRAY_SIZE(fi_files)]);
		f = fopen(s->path, "r");
		if (!f)
			continue;
		if (fgets(s->val, sizeof(s->val), f) && fi->nr < FI_MAX_SAVED - 1)
			fi->nr++;
		fclose(f);
	}
	return fi->nr_dirs ? 0 : -1;
}

static void fi_restore(const struct fi_state *fi)
{
	int i;

	/* Off first, then every value as it was (probability included). */
	fi_set(fi, "probability", "0");
	for (i = 0; i < fi->nr; i++)
		write_str(fi->f[i].path, fi->f[i].val);
}

/*
 * The settings every test uses: probability 0 (nothing fails but the
 * fail-nth one: the fail-nth path does not look at probability, interval,
 * times, space or task-filter), the stack trace filter on vramsim's text for
 * every attribute (so that fail-nth counts nothing else: not the ioctl's
 * copy_from_user in drm_ioctl, which fail_usercopy would count too), and
 * no allocation exempt for its gfp flags or order.
 */
static int fi_configure(const struct fi_state *fi)
{
	char start[32], end[32];
	int err = 0;

	snprintf(start, sizeof(start), "%#lx", fi->start);
	snprintf(end, sizeof(end), "%#lx", fi->end);
	err |= fi_set(fi, "probability", "0");
	err |= fi_set(fi, "interval", "1");
	err |= fi_set(fi, "times", "-1");
	err |= fi_set(fi, "space", "0");
	err |= fi_set(fi, "verbose", "1");
	err |= fi_set(fi, "task-filter", "N");
	/* The most the kernel walks (MAX_STACK_TRACE_DEPTH). */
	err |= fi_set(fi, "stacktrace-depth", "32");
	err |= fi_set(fi, "reject-start", "0");
	err |= fi_set(fi, "reject-end", "0");
	err |= fi_set(fi, "require-start", start);
	err |= fi_set(fi, "require-end", end);
	err |= fi_set_one("failslab", "ignore-gfp-wait", "N");
	err |= fi_set_one("fail_page_alloc", "ignore-gfp-wait", "N");
	err |= fi_set_one("fail_page_alloc", "ignore-gfp-highmem", "N");
	err |= fi_set_one("fail_page_alloc", "min-order", "0");
	return err;
}

/* fail-nth: fail the @n-th counted allocation of this thread. */
static int nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

/* What is left of the count: 0 if the failure fired.  Disarms. */
static long nth_disarm(int fd)
{
	char buf[16] = "";
	long left;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	left = strtol(buf, NULL, 10);
	if (left && pwrite(fd, "0", 1, 0) != 1)
		return -1;
	return left;
}

/* ---------------------------------------------------------------------- */
/* helpers                                                                  */
/* ---------------------------------------------------------------------- */

static __u64 live_bytes(const struct vramsim_stats *s)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < VRAMSIM_NR_ORDERS; i++)
		n += s->live_folios[i] * (SZ_4K << i);
	return n;
}

/* Wait (up to 5 s) until the VRAM is as in @base: free, live, no pending. */
static bool wait_vram_base(int fd, const struct vramsim_stats *base,
			   struct vramsim_stats *s)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (vs_stats(fd, s))
			return false;
		if (!s->pending_frees && s->vram_free == base->vram_free &&
		    live_bytes(s) == live_bytes(base))
			return true;
		usleep(10000);
	}
	return false;
}

/* AnonHugePages of the mapping holding @addr, in kB, or -1. */
static long thp_kb(const void *addr)
{
	unsigned long lo, hi, a = (uintptr_t)addr;
	char line[256];
	bool in = false;
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* A pattern of its own per run, so that data left by an earlier run never match. */
static __u64 run_salt(unsigned int n, unsigned int id)
{
	return ((__u64)n << 40) ^ ((__u64)id << 32) ^ 0x5a5a0000a5a5ULL;
}

static __u64 pattern_word(size_t i, __u64 salt, bool hole)
{
	return hole ? 0 : (i * 8) ^ salt;
}

/*
 * First wrong word of @buf (the pattern, zeros for a hole, @wval at word
 * @wi if @wi >= 0), or -1.  Reads every word: device pages come back.
 */
static long check_buf(const void *buf, size_t len, __u64 salt, bool hole,
		      long wi, __u64 wval)
{
	const __u64 *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		__u64 want = (long)i == wi ? wval : pattern_word(i, salt, hole);

		if (w[i] != want)
			return i;
	}
	return -1;
}

/* A one-line account of the pages around a bad word: which read as zero. */
static void describe_bad(const void *buf, size_t len, long bad, __u64 salt,
			 bool hole, char *out, size_t outlen)
{
	const __u64 *w = buf;
	size_t pg = bad * 8 / SZ_4K, i, zero = 0, wrong = 0, pages = 0;
	size_t j;

	for (j = 0; j < len / SZ_4K; j++) {
		bool any = false;

		for (i = j * SZ_4K / 8; i < (j + 1) * SZ_4K / 8; i++)
			if (w[i] != pattern_word(i, salt, hole))
				any = true;
		if (!any)
			continue;
		pages++;
		for (i = j * SZ_4K / 8; i < (j + 1) * SZ_4K / 8 && !w[i]; i++)
			;
		if (i == (j + 1) * SZ_4K / 8)
			zero++;
		else
			wrong++;
	}
	snprintf(out, outlen,
		 "word %ld (page %zu of %zu) is %#llx, want %#llx; %zu bad pages: %zu all zero, %zu other",
		 bad, pg, len / SZ_4K, (unsigned long long)w[bad],
		 (unsigned long long)pattern_word(bad, salt, hole), pages, zero, wrong);
}

/* @len bytes of order-0 device pages: a NOHUGEPAGE buffer, filled, migrated. */
static char *pin_order0(int fd, size_t len, __u64 salt)
{
	char *buf = vramsim_map_aligned(len, MADV_NOHUGEPAGE);
	__u64 moved;

	if (!buf)
		return NULL;
	fill(buf, len, salt);
	if (vs_migrate(fd, TO_DEV, buf, len, &moved) || moved != len) {
		munmap(buf, len);
		return NULL;
	}
	return buf;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* SIGBUS on an access: counted, and the access abandoned. */
struct bus_catch {
	sigjmp_buf *jmp;
	int count;
};

static __thread struct bus_catch bus;

static void on_sigbus(int sig)
{
	__atomic_add_fetch(&bus.count, 1, __ATOMIC_RELAXED);
	if (bus.jmp)
		siglongjmp(*bus.jmp, 1);
	_exit(99);
}

/*
 * One CPU access to @p that the compiler keeps: a read into *@val, or a
 * write of *@val.  -EFAULT if it raised SIGBUS.
 */
static int touch(char *p, bool write, __u64 *val)
{
	sigjmp_buf jb;
	int ret = 0;

	bus.jmp = &jb;
	if (sigsetjmp(jb, 1))
		ret = -EFAULT;
	else if (write)
		__atomic_store_n((__u64 *)p, *val, __ATOMIC_RELAXED);
	else
		*val = __atomic_load_n((__u64 *)p, __ATOMIC_RELAXED);
	bus.jmp = NULL;
	return ret;
}

static void catch_sigbus(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---------------------------------------------------------------------- */
/* the sweep                                                                */
/* ---------------------------------------------------------------------- */

enum fault_op { OP_TO_DEV, OP_TO_RAM, OP_READ, OP_WRITE };

struct scenario {
	const char *name;
	size_t len;
	int advice;		/* of the buffer */
	bool hole;		/* leave it unpopulated */
	bool thp;		/* the buffer must be a THP (else skip) */
	bool on_device;		/* migrated to the device before the fault is armed */
	int advice_after;	/* madvise() once on the device, or -1 */
	enum fault_op op;
	size_t access;		/* OP_READ, OP_WRITE: offset of the word */
	int order;		/* folio order a complete TO_DEV makes, or -1 */
};

struct tally {
	unsigned int runs;	/* runs of the operation */
	unsigned int fired;	/* ... in which the injected failure fired */
	unsigned int enomem;	/* ... and the call returned ENOMEM */
	unsigned int full;	/* ... and the call still did all of it */
	unsigned int partial;	/* ... and returned 0 with part of it done */
	unsigned int enospc;	/* ... and returned ENOSPC with VRAM free */
	unsigned int other;	/* ... and returned another error */
	unsigned int retried;	/* CPU faults that fired and completed */
	unsigned int short_back;	/* THP faults that brought back less */
	unsigned int sigbus;
	unsigned int bad;	/* runs that broke a rule */
	unsigned int points;	/* counted allocations of the complete run */
	double secs;
};

struct sweep_env {
	int fd, nth;
	struct vramsim_stats base;	/* the VRAM between runs */
	unsigned int id;
};

/* A THP fault that brought less than 2 MiB back: where the rest is. */
static void log_short(const char *name, unsigned int n, __u64 back,
		      const struct vramsim_stats *before,
		      const struct vramsim_stats *after, bool fired)
{
	ksft_print_msg("%s n=%u: %llu bytes came back, not 2 MiB; failure %s\n", name, n,
		       (unsigned long long)back, fired ? "injected" : "not injected");
	ksft_print_msg("%s n=%u: device folios of order 0/9: %llu/%llu, were %llu/%llu\n",
		       name, n, (unsigned long long)after->live_folios[0],
		       (unsigned long long)after->live_folios[9],
		       (unsigned long long)before->live_folios[0],
		       (unsigned long long)before->live_folios[9]);
}

#define BAD(fmt, ...) do {							\
	t->bad++;								\
	if (t->bad <= MAX_REPORTS)						\
		TH_LOG("%s n=%u: " fmt, sc->name, n, ##__VA_ARGS__);		\
} while (0)

/*
 * One run of @sc with the @n-th counted allocation failing.  Returns 1 if
 * the failure did not fire (the sweep is over), 0 if it did, -1 if the run
 * could not be set up.
 */
static int one_run(struct __test_metadata *_metadata, struct sweep_env *env,
		   const struct scenario *sc, unsigned int n, struct tally *t)
{
	__u64 salt = run_salt(n, env->id), moved = 0, wval = 0, v = 0, want;
	struct vramsim_stats before, after, s;
	long left, bad, wi = -1;
	int ret = 0;
	char *buf;
	bool fired;

	buf = vramsim_map_aligned(sc->len, sc->advice);
	if (!buf) {
		BAD("mmap failed");
		return -1;
	}
	if (!sc->hole)
		fill(buf, sc->len, salt);
	if (sc->thp && !sc->hole && thp_kb(buf) < (long)(sc->len >> 10)) {
		munmap(buf, sc->len);
		return -2;
	}
	if (sc->on_device) {
		ret = vs_migrate(env->fd, TO_DEV, buf, sc->len, &moved);
		if (ret || moved != sc->len) {
			BAD("setup: TO_DEV returned %d, moved %llu of %zu", ret,
			    (unsigned long long)moved, sc->len);
			munmap(buf, sc->len);
			return -1;
		}
		if (sc->advice_after >= 0)
			madvise(buf, sc->len, sc->advice_after);
	}
	vs_stats(env->fd, &before);
	if (sc->on_device && sc->thp &&
	    before.live_folios[9] != env->base.live_folios[9] + 1) {
		BAD("setup: the THP did not become a 2 MiB device folio");
		munmap(buf, sc->len);
		return -1;
	}

	bus.count = 0;
	if (nth_arm(env->nth, n)) {
		BAD("cannot write fail-nth");
		munmap(buf, sc->len);
		return -1;
	}
	switch (sc->op) {
	case OP_TO_DEV:
	case OP_TO_RAM:
		ret = vs_migrate(env->fd, sc->op == OP_TO_DEV ? TO_DEV : TO_RAM, buf,
				 sc->len, &moved);
		break;
	case OP_READ:
	case OP_WRITE:
		if (sc->op == OP_WRITE) {
			wi = sc->access / 8;
			wval = ~pattern_word(wi, salt, sc->hole);
			v = wval;
		}
		touch(buf + sc->access, sc->op == OP_WRITE, &v);
		break;
	}
	left = nth_disarm(env->nth);
	vs_stats(env->fd, &after);
	t->runs++;
	fired = left == 0;
	if (left < 0)
		BAD("cannot read fail-nth");
	if (fired)
		t->fired++;
	else
		t->points = n - left;

	if (sc->op == OP_TO_DEV || sc->op == OP_TO_RAM) {
		__u64 delta = sc->op == OP_TO_DEV ? live_bytes(&after) - live_bytes(&before) :
			      live_bytes(&before) - live_bytes(&after);

		if (ret == -ENOSPC && sc->op == OP_TO_DEV && before.vram_free >= sc->len)
			t->enospc++;
		if (ret == -ENOSPC && sc->op == OP_TO_DEV && before.vram_free >= sc->len)
			BAD("ENOSPC with %llu bytes of VRAM free: ENOMEM taken for full VRAM",
			    (unsigned long long)before.vram_free);
		else if (ret && ret != -ENOMEM)
			BAD("returned %d (%s), moved %llu", ret, strerror(-ret),
			    (unsigned long long)moved);
		else if (ret && !fired)
			BAD("returned ENOMEM but no failure was injected");
		else if (!fired && moved != sc->len)
			BAD("no failure injected, but moved %llu of %zu",
			    (unsigned long long)moved, sc->len);
		if (moved > sc->len)
			BAD("moved %llu of %zu", (unsigned long long)moved, sc->len);
		if (delta != moved)
			BAD("moved %llu but device memory in use changed by %llu (ret %d)",
			    (unsigned long long)moved, (unsigned long long)delta, ret);
		if (!fired) {
			/* The complete run: counted above. */
		} else if (ret == -ENOMEM) {
			t->enomem++;
		} else if (ret && ret != -ENOSPC) {
			t->other++;
		} else if (ret) {
			/* Counted above. */
		} else if (moved == sc->len) {
			t->full++;
		} else {
			t->partial++;
			if (t->partial <= 3)
				TH_LOG("%s n=%u: returned 0 with %llu of %zu bytes moved",
				       sc->name, n, (unsigned long long)moved, sc->len);
		}
		if (!fired && ret == 0 && sc->op == OP_TO_DEV && sc->order >= 0 &&
		    after.live_folios[sc->order] - before.live_folios[sc->order] !=
		    sc->len / (SZ_4K << sc->order))
			BAD("complete run made %llu order-%d folios, want %zu",
			    (unsigned long long)(after.live_folios[sc->order] -
						 before.live_folios[sc->order]),
			    sc->order, sc->len / (SZ_4K << sc->order));
	} else {
		/*
		 * The faulting page is back in RAM (the access completed), and
		 * no more than its folio.  A device THP should come back whole
		 * (vramsim_migrate_to_ram()); less is logged, not failed: the
		 * data are what matters here, and they are checked below.
		 */
		__u64 back = live_bytes(&before) - live_bytes(&after);
		__u64 unit = sc->thp ? SZ_2M : SZ_4K;

		if (bus.count) {
			t->sigbus++;
			BAD("SIGBUS on the %s (failure %s)", sc->op == OP_READ ? "read" : "write",
			    fired ? "injected" : "not injected");
		} else {
			if (fired)
				t->retried++;
			if (back < SZ_4K || back > unit)
				BAD("%llu bytes back, not %llu", (unsigned long long)back,
				    (unsigned long long)unit);
			else if (back != unit && ++t->short_back <= 3)
				log_short(sc->name, n, back, &before, &after, fired);
			want = pattern_word(sc->access / 8, salt, sc->hole);
			if (sc->op == OP_READ && v != want)
				BAD("read %#llx, want %#llx", (unsigned long long)v,
				    (unsigned long long)want);
		}
		if (bus.count && sc->op == OP_WRITE)
			wi = -1;	/* the write never happened */
	}

	/* Every word, wherever it is: device pages come back on the way. */
	bad = check_buf(buf, sc->len, salt, sc->hole, wi, wval);
	if (bad >= 0) {
		char what[160];

		describe_bad(buf, sc->len, bad, salt, sc->hole, what, sizeof(what));
		BAD("data: %s (call returned %d, moved %llu, failure %s)", what, ret,
		    (unsigned long long)moved, fired ? "injected" : "not injected");
	}
	vs_stats(env->fd, &s);
	if (live_bytes(&s) != live_bytes(&env->base))
		BAD("%llu bytes still on the device after reading everything back",
		    (unsigned long long)(live_bytes(&s) - live_bytes(&env->base)));

	munmap(buf, sc->len);
	if (!wait_vram_base(env->fd, &env->base, &s))
		BAD("VRAM not back after munmap: %llu free (want %llu), %llu pending, %llu live",
		    (unsigned long long)s.vram_free, (unsigned long long)env->base.vram_free,
		    (unsigned long long)s.pending_frees, (unsigned long long)live_bytes(&s));
	return fired ? 0 : 1;
}

/*
 * Every n up to DENSE and in the last DENSE points; between them, with
 * $VRAMSIM_FAULT_FULL unset, about SPARSE of them at an odd stride (the
 * points come in per-page groups of a few, and kmemleak doubles each slab
 * allocation: an odd stride still lands on every kind of point).  32 at
 * each end still fail every point of the first and last four pages of a
 * 4 KiB walk (seven points a page, the 2 MiB fallback's), where the walk
 * starts and ends; the 64 of each the sweep had took a debug guest 6.5
 * minutes, 4.5 of them in the four 2 MiB cases, most runs in the middle
 * of a walk, where one page's points are the next one's.
 */
#define DENSE	32
#define SPARSE	48

/* n = 1, 2, ... until @sc completes with the n-th failure not reached. */
static void sweep(struct __test_metadata *_metadata, struct sweep_env *env,
		  const struct scenario *sc)
{
	const char *full = getenv("VRAMSIM_FAULT_FULL");
	unsigned int n, total, dense, stride = 1;
	struct tally tally, *t = &tally;
	double t0 = now();
	int r;

	memset(t, 0, sizeof(*t));
	/* A run that fails nothing counts the points: fail-nth as a counter. */
	n = 0;
	r = one_run(_metadata, env, sc, 1000000, t);
	if (r == -2)
		SKIP(return, "%s: no THP for the buffer", sc->name);
	ASSERT_EQ(r, 1);
	total = t->points;
	/*
	 * The 2 MiB fallback's thousands of points: 16 at each end still
	 * fail every point of its first and last two pages, and each of its
	 * runs is a whole 2 MiB walk (0.65 s on the debug kernel).
	 */
	dense = total > 1024 ? DENSE / 2 : DENSE;
	if (!(full && *full == '1') && total > 2 * dense + SPARSE)
		stride = ((total - 2 * dense) / SPARSE) | 1;
	t->runs = 0;

	for (n = 1; n <= MAX_NTH; ) {
		r = one_run(_metadata, env, sc, n, t);
		if (r || t->bad - t->enospc > 20)
			break;
		if (n < dense || n + dense >= total || stride == 1)
			n++;
		else
			n = n + stride + dense < total ? n + stride : total - dense;
	}
	t->secs = now() - t0;
	if (n > MAX_NTH)
		BAD("the failure still fired at n=%u", MAX_NTH);

	ksft_print_msg("%s: %u points; runs for n=1..%u, %u of them (stride %u), %.1f s\n",
		       sc->name, total, n, t->runs, stride, t->secs);
	ksft_print_msg("%s: %u failed: %u ENOMEM, %u ENOSPC, %u other error, %u done, %u partial\n",
		       sc->name, t->fired, t->enomem, t->enospc, t->other, t->full, t->partial);
	if (sc->op == OP_READ || sc->op == OP_WRITE)
		ksft_print_msg("%s: %u faults completed after the failure, %u SIGBUS, %u short\n",
			       sc->name, t->retried, t->sigbus, t->short_back);
	if (t->points != total)
		ksft_print_msg("%s: the complete run had %u points, the first %u\n",
			       sc->name, t->points, total);
	EXPECT_EQ(t->bad, 0);
	/* Else the filter caught nothing of vramsim's and nothing was tested. */
	EXPECT_GT(t->fired, 0);
}

/* ---------------------------------------------------------------------- */
/* fixture                                                                  */
/* ---------------------------------------------------------------------- */

struct fault_ctx {
	int fd;				/* the render node */
	int nth;			/* /proc/thread-self/fail-nth */
	struct vramsim_stats s;	/* at the start */
	struct fi_state fi;		/* settings to restore */
};

FIXTURE(fault) {
	struct fault_ctx c;
};

/*
 * vramsim's text, found once when the program starts (before the tests
 * fork): the .ko on disk may be rebuilt while the tests run, and must match
 * the loaded module when it is read.
 */
static struct {
	int err;
	unsigned long start, end;
	char why[320];
} text = { .err = -1 };

static void __attribute__((constructor)) find_text(void)
{
	char ko[256];
	int syms;

	if (find_ko(ko, sizeof(ko))) {
		snprintf(text.why, sizeof(text.why),
			 "cannot find vramsim.ko (modprobe --show-depends; or set VRAMSIM_KO)");
		return;
	}
	if (ko_text_range(ko, &text.start, &text.end, text.why, sizeof(text.why)))
		return;
	syms = kallsyms_check(text.start, text.end, text.why, sizeof(text.why));
	if (syms <= 0) {
		if (!syms)
			snprintf(text.why, sizeof(text.why), "no [vramsim] text in kallsyms");
		return;
	}
	text.err = 0;
}

FIXTURE_SETUP(fault)
{
	if (access(DEBUGFS "/failslab/require-start", F_OK) ||
	    access(DEBUGFS "/fail_page_alloc/require-start", F_OK) ||
	    access("/proc/thread-self/fail-nth", F_OK))
		SKIP(return, "no fail-nth, or no failslab/fail_page_alloc stack filter");

	self->c.fd = vramsim_open_render_node();
	ASSERT_GE(self->c.fd, 0) TH_LOG("no vramsim render node: is the module loaded?");
	ASSERT_TRUE(wait_vram_idle(self->c.fd, &self->c.s))
		TH_LOG("VRAM not idle before the test: %llu of %llu free",
		       (unsigned long long)self->c.s.vram_free,
		       (unsigned long long)self->c.s.vram_size);

	ASSERT_EQ(text.err, 0) TH_LOG("vramsim's text: %s", text.why);
	self->c.fi.start = text.start;
	self->c.fi.end = text.end;

	ASSERT_EQ(fi_save(&self->c.fi), 0);
	ASSERT_EQ(fi_configure(&self->c.fi), 0) TH_LOG("cannot configure %s", DEBUGFS "/fail*");

	self->c.nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->c.nth, 0);
	catch_sigbus();
}

/*
 * In the parent: runs even if the test process died, so the fault
 * attributes always get their settings back.  Then, with every mapping of
 * the test gone, the VRAM must be whole.
 */
FIXTURE_TEARDOWN_PARENT(fault)
{
	struct vramsim_stats s;
	int fd;

	fi_restore(&self->c.fi);
	fd = vramsim_open_render_node();
	if (fd < 0)
		return;
	EXPECT_TRUE(wait_vram_idle(fd, &s))
		TH_LOG("leak: %llu of %llu bytes free, %llu pending, %llu live",
		       (unsigned long long)s.vram_free, (unsigned long long)s.vram_size,
		       (unsigned long long)s.pending_frees, (unsigned long long)live_bytes(&s));
	close(fd);
}

/* The VRAM every run must leave behind: as it is now, once nothing is pending. */
static void env_init(struct __test_metadata *_metadata, struct fault_ctx *c,
		     struct sweep_env *env, unsigned int id)
{
	int i;

	env->fd = c->fd;
	env->nth = c->nth;
	env->id = id;
	for (i = 0; i < 500; i++) {
		ASSERT_EQ(vs_stats(c->fd, &env->base), 0);
		if (!env->base.pending_frees)
			break;
		usleep(10000);
	}
	ASSERT_EQ(env->base.pending_frees, 0);
}

static void log_range(struct __test_metadata *_metadata, struct fault_ctx *c)
{
	ksft_print_msg("filter: require [%#lx, %#lx) (%lu bytes of vramsim text), prepare=%s\n",
		       c->fi.start, c->fi.end, c->fi.end - c->fi.start,
		       vramsim_prepare_name(c->s.prepare));
}

static void run_scenario(struct __test_metadata *_metadata, struct fault_ctx *c,
			 const struct scenario *sc, unsigned int id)
{
	struct sweep_env env;

	log_range(_metadata, c);
	env_init(_metadata, c, &env, id);
	sweep(_metadata, &env, sc);
}

/* (a) to the device --------------------------------------------------- */

TEST_F_TIMEOUT(fault, to_dev_4k, 900)
{
	static const struct scenario sc = {
		.name = "to_dev_4k", .len = SZ_64K, .advice = MADV_NOHUGEPAGE,
		.advice_after = -1, .op = OP_TO_DEV, .order = 0,
	};

	run_scenario(_metadata, &self->c, &sc, 1);
}

TEST_F_TIMEOUT(fault, to_dev_thp, 1200)
{
	static const struct scenario sc = {
		.name = "to_dev_thp", .len = SZ_2M, .advice = MADV_HUGEPAGE, .thp = true,
		.advice_after = -1, .op = OP_TO_DEV, .order = 9,
	};

	run_scenario(_metadata, &self->c, &sc, 2);
}

TEST_F_TIMEOUT(fault, to_dev_hole, 1200)
{
	static const struct scenario sc = {
		.name = "to_dev_hole", .len = SZ_2M, .advice = MADV_HUGEPAGE, .hole = true,
		.advice_after = -1, .op = OP_TO_DEV, .order = 9,
	};

	run_scenario(_metadata, &self->c, &sc, 3);
}

/*
 * A THP when no 2 MiB block is free but 4 KiB blocks are: 512 order-0
 * folios (a second walk without MIGRATE_VMA_SELECT_COMPOUND, once the core
 * has split the THP).
 * With no flags the GPU buddy hands out the highest free block of the
 * smallest order that fits, so the VRAM fills from the top: every 2 MiB
 * block but the lowest two full (THPs, or 4 KiB pages where no THP could be
 * had), the second lowest full of 4 KiB pages but 15 of them, the lowest one
 * 4 KiB page in use (its top one).  526 pages free, no 2 MiB block.  The
 * complete run must have made 512 order-0 folios.  A backing-store page
 * that cannot be had for page j < 511 while page j + 1 gets one must not
 * move page j without its data ("bug D"): every word is compared.
 */
TEST_F_TIMEOUT(fault, to_dev_thp_fallback, 2400)
{
	static const struct scenario sc = {
		.name = "to_dev_thp_fallback", .len = SZ_2M, .advice = MADV_HUGEPAGE,
		.thp = true, .advice_after = -1, .op = OP_TO_DEV, .order = 0,
	};
	size_t big, small = SZ_2M + SZ_4K;
	struct sweep_env env;
	char *f1 = NULL, *f2;
	__u64 moved;

	log_range(_metadata, &self->c);
	if (self->c.s.vram_size < 3 * SZ_2M)
		SKIP(return, "VRAM too small");
	big = self->c.s.vram_size - 2 * SZ_2M;
	if (big) {
		f1 = vramsim_map_aligned(big, MADV_HUGEPAGE);
		ASSERT_NE(f1, NULL);
		fill(f1, big, 0x11);
		ASSERT_EQ(vs_migrate(self->c.fd, TO_DEV, f1, big, &moved), 0);
		ASSERT_EQ(moved, big);
	}
	f2 = pin_order0(self->c.fd, small, 0x22);
	ASSERT_NE(f2, NULL);
	/* f2's pages 1..15: the top of the second lowest block but one. */
	ASSERT_EQ(madvise(f2 + SZ_4K, 15 * SZ_4K, MADV_DONTNEED), 0);
	env_init(_metadata, &self->c, &env, 4);
	ASSERT_EQ(env.base.vram_free, (511 + 15) * SZ_4K)
		TH_LOG("the VRAM layout is not as planned (%llu bytes free)",
		       (unsigned long long)env.base.vram_free);
	sweep(_metadata, &env, &sc);

	EXPECT_EQ(check(f2, SZ_4K, 0x22), -1);
	EXPECT_EQ(check_at(f2, 16 * SZ_4K, small - 16 * SZ_4K, 0x22), -1);
	munmap(f2, small);
	if (f1) {
		EXPECT_EQ(check(f1, big, 0x11), -1);
		munmap(f1, big);
	}
}

/* (b) back to RAM ---------------------------------------------------- */

TEST_F_TIMEOUT(fault, to_ram_4k, 900)
{
	static const struct scenario sc = {
		.name = "to_ram_4k", .len = SZ_64K, .advice = MADV_NOHUGEPAGE,
		.on_device = true, .advice_after = -1, .op = OP_TO_RAM, .order = -1,
	};

	run_scenario(_metadata, &self->c, &sc, 5);
}

TEST_F_TIMEOUT(fault, to_ram_thp, 900)
{
	static const struct scenario sc = {
		.name = "to_ram_thp", .len = SZ_2M, .advice = MADV_HUGEPAGE, .thp = true,
		.on_device = true, .advice_after = -1, .op = OP_TO_RAM, .order = -1,
	};

	run_scenario(_metadata, &self->c, &sc, 6);
}

/*
 * A device THP in a VMA that no longer allows THP: it comes back as 4 KiB
 * pages (the core splits the device folio), one allocation each.
 */
TEST_F_TIMEOUT(fault, to_ram_thp_nohuge, 1200)
{
	static const struct scenario sc = {
		.name = "to_ram_thp_nohuge", .len = SZ_2M, .advice = MADV_HUGEPAGE,
		.thp = true, .on_device = true, .advice_after = MADV_NOHUGEPAGE,
		.op = OP_TO_RAM, .order = -1,
	};

	run_scenario(_metadata, &self->c, &sc, 7);
}

/* (c) CPU faults ------------------------------------------------------ */

TEST_F_TIMEOUT(fault, cpu_read_4k, 600)
{
	static const struct scenario sc = {
		.name = "cpu_read_4k", .len = SZ_64K, .advice = MADV_NOHUGEPAGE,
		.on_device = true, .advice_after = -1, .op = OP_READ,
		.access = 5 * SZ_4K + 8 * 37, .order = -1,
	};

	run_scenario(_metadata, &self->c, &sc, 8);
}

TEST_F_TIMEOUT(fault, cpu_write_4k, 600)
{
	static const struct scenario sc = {
		.name = "cpu_write_4k", .len = SZ_64K, .advice = MADV_NOHUGEPAGE,
		.on_device = true, .advice_after = -1, .op = OP_WRITE,
		.access = 9 * SZ_4K + 8 * 501, .order = -1,
	};

	run_scenario(_metadata, &self->c, &sc, 9);
}

TEST_F_TIMEOUT(fault, cpu_read_thp, 600)
{
	static const struct scenario sc = {
		.name = "cpu_read_thp", .len = SZ_2M, .advice = MADV_HUGEPAGE, .thp = true,
		.on_device = true, .advice_after = -1, .op = OP_READ,
		.access = 300 * SZ_4K + 8 * 3, .order = -1,
	};

	run_scenario(_metadata, &self->c, &sc, 10);
}

TEST_F_TIMEOUT(fault, cpu_write_thp, 600)
{
	static const struct scenario sc = {
		.name = "cpu_write_thp", .len = SZ_2M, .advice = MADV_HUGEPAGE, .thp = true,
		.on_device = true, .advice_after = -1, .op = OP_WRITE,
		.access = 77 * SZ_4K + 8 * 200, .order = -1,
	};

	run_scenario(_metadata, &self->c, &sc, 11);
}

/* (d) random failures while two threads migrate ------------------------ */

#define RACE_SECS	4

struct racer {
	int fd, id;
	char *shared;		/* read-only while the threads run */
	bool *stop;
	unsigned long iters, migrations, enomem, enospc, errors, bad_data, sigbus;
	char msg[200];
};

static bool migrate_ok(struct racer *r, unsigned long req, void *addr, size_t len)
{
	__u64 moved;
	int ret = vs_migrate(r->fd, req, addr, len, &moved);

	r->migrations++;
	if (ret == -ENOMEM) {
		r->enomem++;
		return true;
	}
	/* The VRAM never fills up here: ENOSPC is a failed allocation. */
	if (ret == -ENOSPC)
		r->enospc++;
	if (ret || moved > len) {
		if (!r->errors++)
			snprintf(r->msg, sizeof(r->msg), "%s of %zu bytes: %d, moved %llu",
				 req == TO_DEV ? "TO_DEV" : "TO_RAM", len, ret,
				 (unsigned long long)moved);
		return false;
	}
	return true;
}

/* check() of every word; a SIGBUS on the way is counted and ends it (-2). */
static long checked_read(char *buf, size_t len, __u64 salt)
{
	sigjmp_buf jb;
	long bad;

	bus.jmp = &jb;
	if (sigsetjmp(jb, 1)) {
		bus.jmp = NULL;
		return -2;
	}
	bad = check(buf, len, salt);
	bus.jmp = NULL;
	return bad;
}

static void *racer_fn(void *arg)
{
	struct racer *r = arg;
	size_t len = SZ_4M;

	catch_sigbus();
	while (!__atomic_load_n(r->stop, __ATOMIC_RELAXED)) {
		__u64 salt = run_salt(r->iters, 100 + r->id);
		char *buf = vramsim_map_aligned(len, r->id ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
		long bad;

		if (!buf)
			break;
		fill(buf, len, salt);
		migrate_ok(r, TO_DEV, buf, len);
		migrate_ok(r, TO_DEV, r->shared, SZ_4M);
		migrate_ok(r, TO_RAM, buf + SZ_2M - SZ_64K, SZ_2M);
		migrate_ok(r, TO_RAM, r->shared + r->id * SZ_2M, SZ_2M);

		bus.count = 0;
		bad = checked_read(buf, len, salt);
		if (bad == -1)
			bad = checked_read(r->shared, SZ_4M, 0x5151);
		r->sigbus += bus.count;
		if (bad >= 0 && !r->bad_data++)
			snprintf(r->msg, sizeof(r->msg), "iteration %lu: word %ld differs",
				 r->iters, bad);
		/* Freed partly on the device, partly not. */
		migrate_ok(r, TO_DEV, buf, len);
		munmap(buf, len);
		r->iters++;
	}
	return NULL;
}

TEST_F_TIMEOUT(fault, random_two_threads, 300)
{
	struct racer r[2];
	bool stop = false;
	pthread_t th[2];
	char *shared;
	int i;

	log_range(_metadata, &self->c);
	shared = vramsim_map_aligned(SZ_4M, MADV_HUGEPAGE);
	ASSERT_NE(shared, NULL);
	fill(shared, SZ_4M, 0x5151);

	/*
	 * Any task, 10% of the allocations with vramsim on the stack: the
	 * fail-nth settings plus a probability (task-filter stays N).
	 */
	ASSERT_EQ(fi_set_one("failslab", "probability", "10"), 0);
	ASSERT_EQ(fi_set_one("fail_page_alloc", "probability", "10"), 0);

	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].fd = self->c.fd;
		r[i].id = i;
		r[i].shared = shared;
		r[i].stop = &stop;
		if (pthread_create(&th[i], NULL, racer_fn, &r[i]))
			break;
	}
	sleep(RACE_SECS);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	while (i--)
		pthread_join(th[i], NULL);
	fi_set(&self->c.fi, "probability", "0");

	for (i = 0; i < 2; i++) {
		ksft_print_msg("thread %d: %lu rounds, %lu migrations, %lu ENOMEM, %lu ENOSPC\n",
			       i, r[i].iters, r[i].migrations, r[i].enomem, r[i].enospc);
		ksft_print_msg("thread %d: %lu other errors, %lu bad data, %lu SIGBUS %s\n", i,
			       r[i].errors, r[i].bad_data, r[i].sigbus, r[i].msg);
		EXPECT_GT(r[i].iters, 0);
		EXPECT_EQ(r[i].errors, 0);
		EXPECT_EQ(r[i].bad_data, 0);
		EXPECT_EQ(r[i].sigbus, 0);
	}
	EXPECT_EQ(check(shared, SZ_4M, 0x5151), -1);
	munmap(shared, SZ_4M);
	EXPECT_TRUE(wait_vram_idle(self->c.fd, &self->c.s));
}

TEST_HARNESS_MAIN
