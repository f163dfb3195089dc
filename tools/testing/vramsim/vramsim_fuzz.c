// SPDX-License-Identifier: GPL-2.0
/*
 * vramsim_fuzz: random and edge-case ioctls on the vramsim render node from
 * several threads, every result checked against what the uapi documentation
 * (include/uapi/drm/vramsim_drm.h, docs/uapi.md) and the DRM core's
 * drm_ioctl() (drivers/gpu/drm/drm_ioctl.c) say it must be.
 *
 * Each thread owns an arena at a fixed address far below anything mmap()
 * chooses, so it knows every page a range passes through: a hole, private
 * anonymous memory (its data, zeroes or PROT_NONE), or a mapping that is not
 * anonymous (shmem, a tmpfs file).  A migration that passes the driver's
 * argument checks must fail with the errno of the first such page the walk
 * meets, EFAULT for a hole and EINVAL for the rest; where the outcome
 * depends on state (the VRAM filling up, a concurrent munmap, a signal) the
 * documented set is accepted and the bytes reported moved are bounded.
 *
 * Calls: the three driver commands with their encoding's direction and size
 * mutated, the empty driver number 0x00 (STATS in uapi 1.x: EINVAL now),
 * driver numbers past the commands and core numbers (refused on a render
 * node, or empty), other ioctl types; the argument in place, straddling a
 * PROT_NONE page, read-only, NULL, a kernel or non-canonical address;
 * migrate ranges unaligned, empty, wrapping, past TASK_SIZE, over holes,
 * PROT_NONE, mlocked, THP, shmem and tmpfs mappings, over 1 TiB of
 * MAP_NORESERVE memory (with a timer signal, or SIGKILL of a forked child,
 * in the middle), under a concurrent munmap; and valid round trips whose
 * data are checked.  Between calls the arena changes: new mappings,
 * MADV_DONTNEED, holes punched, mprotect, mremap.
 *
 * With two vramsim devices (num_devices=2; device 1 is looked for at the
 * start), every call goes to one of them at random, so migrations to the
 * device also move pages from one device's VRAM to the other's; what a
 * walk may move and the errno it ends with do not depend on where the
 * pages are.  Now and then (op "unplug") a thread puts some of its data on
 * device 1, removes device 1 (num_devices=1), checks that the file still
 * open on it gets ENODEV and that its data came back intact, re-creates
 * device 1 and points every thread's device 1 descriptor at the new one
 * (dup2()).  A call on device 1 that overlaps such a removal may fail with
 * ENODEV; any other ENODEV is a mismatch.
 *
 * Op "dmirror" drives the dmirror interface (/dev/vramsim_dmirrorN, the
 * ioctls of lib/test_hmm_uapi.h, docs/uapi.md) with one file per thread
 * and device: every command on the thread's slots, its anonymous runs
 * mostly, with each errno of the documented list; malformed commands
 * (unknown numbers and sizes, bad argument pointers, unaligned, empty,
 * wrapping and past-TASK_SIZE ranges, unknown flags, ranges too large for
 * a kernel buffer) with the one errno the checks give, in their order; a
 * failed command must leave the structure as it was.  What the device
 * reads (READ, READ_UNLOCKED, MIGRATE_TO_DEV, EXCLUSIVE) must be what the
 * model says the pages hold, a WRITE writes back what a READ just read,
 * SNAPSHOT reports nothing but what readable anonymous memory can be, and
 * the slot is read back after every command.  The files of device 1 are
 * opened again after a removal of it re-created it.
 *
 * The driver's counters are in debugfs since uapi 2.0: op "query" reads
 * them now and then too (vs_stats()), between the ioctls, and checks what
 * must hold (the policy, the VRAM size, the device number).
 *
 *   vramsim_fuzz [--seed N] [--threads N] [--calls N] [--verbose] [--only OP]
 *
 * --calls is the total over the threads (default 100000, 4 threads); --only
 * makes one kind of call (see ops[]), --verbose prints every one.  The seed
 * is printed; the same seed, thread and call counts replay every thread's
 * sequence of calls (their results still depend on the threads'
 * interleaving).  TAP on stdout; exit status 0 only if every check held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_hmm_uapi.h"
#include "vramsim_drm.h"
#include "vramsim_lib.h"
#include "kselftest.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define PG		4096UL
#define SZ_2M		(2UL << 20)
#define SZ_1G		(1024UL << 20)
#define SZ_1T		(1024UL << 30)

/* A thread's arena: NSLOTS slots of up to SLOT_MAX, each followed by a hole, */
#define NSLOTS		6
#define SLOT_MAX	(4UL << 20)
#define SLOT_SPAN	(8UL << 20)
#define SLOT_PAGES	(SLOT_MAX / PG)
/* then the pages ioctl arguments live in (AP_*), */
#define ARGS_OFF	(NSLOTS * SLOT_SPAN)
#define MODEL_LEN	(ARGS_OFF + 16 * PG)
#define MODEL_PAGES	(MODEL_LEN / PG)
/* and 1 TiB of MAP_NORESERVE memory that is never written, for long walks. */
#define HUGE_OFF	(512UL << 30)
#define HUGE_LEN	SZ_1T
#define ARENA_BASE	(16UL << 40)
#define ARENA_STRIDE	(2UL << 40)
/* and a hole up to the next thread's arena. */
#define GAP_LEN		(ARENA_STRIDE - HUGE_OFF - HUGE_LEN)
#define MAX_THREADS	16

/* Pages of the argument area, from ARGS_OFF. */
enum {
	AP_BUF = 0,		/* 5 pages, anonymous RW: the usual argument */
	AP_HOLE = 5,
	AP_EDGE = 6,		/* a RW page, then a PROT_NONE one */
	AP_NONE = 7,
	AP_RO = 8,		/* 5 pages of a tmpfs file, mapped read-only */
	AP_END = 13,
};

#define ARGBUF_LEN	(5 * PG)
/* Pages a dmirror command moves at most (its buffer, DMBUF_LEN pages). */
#define DMBUF_LEN	256
#define IOC_SIZE_MAX	((1U << _IOC_SIZEBITS) - 1)
#define PREFILL_MAX	(IOC_SIZE_MAX + 64)
/* The file behind file-backed slots; its pages from MEMFD_RO_OFF back AP_RO. */
#define MEMFD_RO_OFF	SLOT_MAX
#define MEMFD_LEN	(SLOT_MAX + ARGBUF_LEN)

/* What a page of the arena is. */
enum { P_HOLE, P_ZERO, P_DATA, P_ANON, P_FILE };
#define P_LOCKED	0x10	/* mlock()ed: madvise(MADV_DONTNEED) refuses it */
#define P_KIND(p)	((p) & 0xf)

/* Calls by command, as drm_ioctl() dispatches them. */
enum {
	C_DRV_HOLE, C_TO_DEV, C_TO_RAM, C_QUERY, C_DRV_UNKNOWN, C_CORE_REFUSED,
	C_CORE_INVALID, C_CORE_VALID, C_FOREIGN, C_DMIRROR, NCLASS
};

static const char * const class_names[NCLASS] = {
	"driver 0x40 (STATS in 1.x, empty)", "VRAMSIM_MIGRATE_TO_DEVICE",
	"VRAMSIM_MIGRATE_TO_RAM", "VRAMSIM_QUERY", "driver 0x44..0x9f (unknown)",
	"core, refused on a render node", "core, no such ioctl", "core, render-allowed",
	"not a DRM ioctl (type)", "dmirror (test_hmm's ioctls)",
};

/* errno histogram; the last bucket counts children SIGKILLed mid-call. */
#define NERR		136
#define E_KILLED	(NERR - 1)

/* Where an ioctl's argument points. */
enum {
	A_GOOD, A_EDGE, A_RO, A_NULL, A_KERNEL, A_UNMAPPED, A_NONCANON,
	A_PROTNONE, NARG
};

static const char * const arg_names[NARG] = {
	"rw", "edge", "ro", "NULL", "kernel", "unmapped", "noncanonical",
	"PROT_NONE",
};

/*
 * The driver's table, by number from DRM_COMMAND_BASE: 0x00 is empty (it
 * was STATS in uapi 1.x), which drm_ioctl() refuses with EINVAL before
 * anything is copied, as it does the numbers past the table.
 */
static const unsigned int drv_cmds[] = {
	0,
	DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE,
	DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM,
	DRM_IOCTL_VRAMSIM_QUERY,
};

/* DRM_IOCTL_VRAMSIM_STATS of uapi 1.0 (280 bytes) and 1.1 to 1.3 (320). */
#define VRAMSIM_STATS_1_0	_IOR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x00, char[280])
#define VRAMSIM_STATS_1_3	_IOR(DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x00, char[320])

/*
 * Core ioctls the fuzzer issues.  Those without DRM_RENDER_ALLOW in
 * drm_ioctls[] fail drm_ioctl_permit() with EACCES on a render node (after
 * the argument was copied in, and the copy back out still happens);
 * DRM_IOCTL_VERSION is allowed (with lengths of 0 or pointers into the
 * argument buffer only), DRM_IOCTL_GEM_CHANGE_HANDLE is drm_invalid_op().
 */
struct core_ioctl {
	unsigned int cmd;
	int cls;
};

static const struct core_ioctl core_ioctls[] = {
	{ DRM_IOCTL_GET_UNIQUE, C_CORE_REFUSED },
	{ DRM_IOCTL_GET_MAGIC, C_CORE_REFUSED },
	{ DRM_IOCTL_GET_CLIENT, C_CORE_REFUSED },
	{ DRM_IOCTL_GET_STATS, C_CORE_REFUSED },
	{ DRM_IOCTL_SET_VERSION, C_CORE_REFUSED },
	{ DRM_IOCTL_GEM_FLINK, C_CORE_REFUSED },
	{ DRM_IOCTL_GEM_OPEN, C_CORE_REFUSED },
	{ DRM_IOCTL_SET_CLIENT_CAP, C_CORE_REFUSED },
	{ DRM_IOCTL_SET_UNIQUE, C_CORE_REFUSED },
	{ DRM_IOCTL_AUTH_MAGIC, C_CORE_REFUSED },
	{ DRM_IOCTL_BLOCK, C_CORE_REFUSED },
	{ DRM_IOCTL_SET_MASTER, C_CORE_REFUSED },
	{ DRM_IOCTL_DROP_MASTER, C_CORE_REFUSED },
	{ DRM_IOCTL_FINISH, C_CORE_REFUSED },
	{ DRM_IOCTL_WAIT_VBLANK, C_CORE_REFUSED },
	{ DRM_IOCTL_UPDATE_DRAW, C_CORE_REFUSED },
	{ DRM_IOCTL_MODE_GETRESOURCES, C_CORE_REFUSED },
	{ DRM_IOCTL_MODE_GETCRTC, C_CORE_REFUSED },
	{ DRM_IOCTL_MODE_CREATE_DUMB, C_CORE_REFUSED },
	{ DRM_IOCTL_MODE_ATOMIC, C_CORE_REFUSED },
	{ DRM_IOCTL_MODE_REVOKE_LEASE, C_CORE_REFUSED },
	{ DRM_IOCTL_MODE_CLOSEFB, C_CORE_REFUSED },
	{ DRM_IOCTL_VERSION, C_CORE_VALID },
	{ DRM_IOCTL_GEM_CHANGE_HANDLE, C_CORE_VALID },
};

/*
 * Numbers below DRM_COMMAND_BASE that drm_ioctls[] (7.3) leaves empty: no
 * function, EINVAL before anything is copied.  So is every number from
 * CORE_IOCTL_COUNT (ARRAY_SIZE(drm_ioctls), the last being 0xd2,
 * DRM_IOCTL_GEM_CHANGE_HANDLE) to 0xff.
 */
static const unsigned char core_holes[] = {
	0x03, 0x04, 0x08, 0x0e, 0x0f, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
	0x1a, 0x1b, 0x1c, 0x1d, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26,
	0x29, 0x2a, 0x2b, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36,
	0x37, 0x38, 0x39, 0x3d, 0x3e,
};

#define CORE_IOCTL_COUNT	0xd3

#define NOPS		13

/* Devices the fuzzer drives: device 0 and, if it exists, device 1. */
#define MAX_DEVS	2

/* Counters of one thread, summed at the end. */
struct tally {
	unsigned long op_n[NOPS + 1];
	__u64 op_us[NOPS + 1];
	unsigned long calls[NCLASS];
	unsigned long hist[NCLASS][NERR];
	unsigned long errno_bad, struct_bad, data_bad, populated_bad;
	unsigned long sys_bad, hang_bad, unchecked;
	unsigned long roundtrips, races, signal_calls, signals, eintr;
	unsigned long kills, kills_mid, kill_lat_max_us, maint, checks;
	unsigned long calls_dev[MAX_DEVS], enodev;
	unsigned long unplugs, unplug_enodev_bad, unplug_folios, unplug_bytes;
	__u64 unplug_us[2];		/* removing device 1, re-creating it */
};

/* A forked child's result, in a MAP_SHARED page. */
struct child_result {
	int state;
	int err;
	__u64 moved;
};

struct worker {
	int idx;
	pthread_t thread, helper;
	__u64 rng;
	unsigned long ncalls, n;
	/*
	 * This thread's own render node fds, one per device.  fds[1] is
	 * changed by this thread or dup2()ed over by a removal of device 1,
	 * both under g_dev1_lock.
	 */
	int fds[MAX_DEVS];
	int force_dev;			/* the next call's device, -1: random */
	int memfd;
	char *base, *huge, *ro_rw;
	unsigned char pst[MODEL_PAGES];
	unsigned char alt[MODEL_PAGES];
	__u64 salt[NSLOTS];
	timer_t timer;
	bool timer_ok, helper_ok;
	/* the munmap helper thread */
	sem_t go, done;
	char *unmap_addr;
	size_t unmap_len;
	unsigned int unmap_delay_us;
	int unmap_ret;
	bool quit;
	struct child_result *cres;
	struct tally t;
	/* the argument of the current call, and what the checks expected */
	unsigned char in[PREFILL_MAX];
	char why[200];
	/* this thread's files of the dmirror nodes, and a buffer for them */
	int dm[MAX_DEVS];
	unsigned int dm_gen;		/* g_dev1_gen when dm[1] was opened */
	unsigned char *dmbuf;
};

/* One ioctl as issued. */
struct call {
	const char *tag;
	int dev;			/* the device @fd is a render node of */
	int fd;
	unsigned int cmd;
	int amode;
	unsigned int edge;		/* A_EDGE: bytes before the PROT_NONE page */
	unsigned int off;		/* A_GOOD, A_RO: offset into the page */
	size_t prefill;
	unsigned long arg;
	bool eintr_ok;			/* a signal may interrupt it */
	bool race;			/* the walk may see w->alt instead of w->pst */
	long timer_us;			/* arm the thread's timer first, if >= 0 */
};

/* What drm_ioctl() and the driver do with it. */
struct outcome {
	int cls;
	int err;			/* expected errno, -1: the walk decides */
	unsigned int in_size, out_size;
	bool ran;			/* the command's function ran */
	bool out_fault;			/* copy_to_user() fails: EFAULT */
	bool validated;			/* a migrate that passed the checks */
	bool to_dev;
	struct drm_vramsim_migrate k;	/* the migrate structure, as the driver sees it */
};

struct region {
	__u64 start, end;
	int kind;
};

static int g_fd = -1;
static __u64 g_task_size, g_vram_max;
/* Devices used, their shared fds and VRAM sizes; g_fds[0] is g_fd. */
static int g_ndev = 1;
static int g_fds[MAX_DEVS] = { -1, -1 };
static __u64 g_vram_sizes[MAX_DEVS];
/* Removing device 1: allowed, and num_devices to re-create it with. */
static bool g_unplug_ok;
static int g_num_devices = 1;
/*
 * Held while device 1 is removed and re-created and while a descriptor of
 * it is opened or closed; g_dev1_gen is odd from the removal until every
 * descriptor points at the new device 1 (or for good if that failed).
 */
static pthread_mutex_t g_dev1_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int g_dev1_gen;
static struct worker *g_workers;
static int g_nworkers;
static __u32 g_prepare;
static bool g_verbose, g_ram_walk_ok = true;
static int g_only = -1;
static struct region g_wild[64];
static int g_nwild;
static __u64 g_wild_starts[32];
static int g_nwild_starts;
static __u64 g_text;
static unsigned long g_calls, g_done;
static __u64 g_t0;

/* How many reports of each kind are printed (all are counted). */
enum { PR_ERRNO, PR_MOVED, PR_STRUCT, PR_DATA, PR_OTHER, PR_TRACE, NPR };
static const unsigned int print_max[NPR] = { 40, 3, 10, 10, 20, ~0U };
static unsigned int g_printed[NPR];
static pthread_mutex_t g_out = PTHREAD_MUTEX_INITIALIZER;

static __thread int t_signals;

static void on_timer(int sig)
{
	__atomic_add_fetch(&t_signals, 1, __ATOMIC_RELAXED);
}

static __u64 umin(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

static __u64 umax(__u64 a, __u64 b)
{
	return a > b ? a : b;
}

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* splitmix64: one state word per thread, so a seed replays each thread. */
static __u64 rnd(struct worker *w)
{
	__u64 z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u64 below(struct worker *w, __u64 n)
{
	return n ? rnd(w) % n : 0;
}

static bool pm(struct worker *w, unsigned int permille)
{
	return below(w, 1000) < permille;
}

/* 1 to @max pages, log-uniform: mostly small, now and then large. */
static __u64 some_pages(struct worker *w, __u64 max)
{
	unsigned int bits = 0;
	__u64 n;

	while ((2ULL << bits) <= max)
		bits++;
	n = 1ULL << below(w, bits + 1);
	n += below(w, n);
	return umin(umax(n, 1), max);
}

static const char *ename(int e)
{
	const char *s;

	if (e == E_KILLED)
		return "killed";
	if (!e)
		return "0";
	s = strerrorname_np(e);
	return s ? s : "E?";
}

static char *slot_addr(struct worker *w, unsigned int s)
{
	return w->base + s * SLOT_SPAN;
}

static char *args_addr(struct worker *w, unsigned int page)
{
	return w->base + ARGS_OFF + page * PG;
}

static void set_pages(unsigned char *pst, struct worker *w, char *a, size_t len, int kind)
{
	size_t i, p = (a - w->base) / PG;

	for (i = 0; i < len / PG; i++)
		pst[p + i] = kind;
}

/* fill() with the word index counted from @base, as check_at() counts it. */
static void fill_at(char *base, size_t off, size_t len, __u64 salt)
{
	__u64 *wd = (__u64 *)base;
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++)
		wd[i] = (i * 8) ^ salt;
}

/* ---- What the walk meets ---------------------------------------------- */

/* Kind of the page at @a (P_HOLE, P_ANON or P_FILE), -1 if unknown. */
static int kind_at(struct worker *w, const unsigned char *pst, __u64 a, __u64 *next)
{
	__u64 base = (uintptr_t)w->base, huge = (uintptr_t)w->huge;
	int k, i;

	if (a >= base && a < base + MODEL_LEN) {
		k = P_KIND(pst[(a - base) / PG]);
		*next = a + PG;
		return k == P_HOLE || k == P_FILE ? k : P_ANON;
	}
	if (a >= base + MODEL_LEN && a < huge) {
		*next = huge;
		return P_HOLE;
	}
	if (a >= huge && a < huge + HUGE_LEN) {
		*next = huge + HUGE_LEN;
		return P_ANON;
	}
	if (a >= huge + HUGE_LEN && a < base + ARENA_STRIDE) {
		*next = base + ARENA_STRIDE;
		return P_HOLE;
	}
	for (i = 0; i < g_nwild; i++) {
		if (a >= g_wild[i].start && a < g_wild[i].end) {
			*next = g_wild[i].end;
			return g_wild[i].kind;
		}
	}
	return -1;
}

/*
 * The walk of [s, e) stops at the first page that is not anonymous memory:
 * *err is EFAULT (a hole) or EINVAL (another mapping), or 0 if there is none;
 * *prefix the bytes of anonymous memory before it.  False if unknown.
 */
static bool classify(struct worker *w, const unsigned char *pst, __u64 s, __u64 e,
		     int *err, __u64 *prefix)
{
	__u64 a = s, next;
	int k;

	while (a < e) {
		k = kind_at(w, pst, a, &next);
		if (k < 0)
			return false;
		if (k != P_ANON) {
			*err = k == P_HOLE ? EFAULT : EINVAL;
			*prefix = a - s;
			return true;
		}
		a = next;
	}
	*err = 0;
	*prefix = e - s;
	return true;
}

/*
 * A migrate that passed the argument checks and returned @got, having
 * reported @moved (if @seen).  To the device, the walk stops early when
 * the VRAM is full: 0 if something moved, ENOSPC if nothing did.
 */
static bool walk_ok(struct worker *w, const unsigned char *pst, const struct outcome *o,
		    int got, __u64 moved, bool seen, bool eintr_ok, bool *unknown)
{
	__u64 s = o->k.start, len = o->k.length, prefix;
	int err;

	if (!classify(w, pst, s, s + len, &err, &prefix)) {
		*unknown = true;
		return true;
	}
	snprintf(w->why, sizeof(w->why),
		 "%s%s, moved <= %#llx (first problem %s after %#llx anonymous bytes)",
		 o->to_dev && prefix ? "0|ENOSPC|" : "", ename(err),
		 (unsigned long long)prefix, ename(err), (unsigned long long)prefix);
	if (seen && ((moved & (PG - 1)) || moved > prefix))
		return false;
	if (got == EINTR)
		return eintr_ok;
	if (!o->to_dev || !prefix)
		return got == err;
	if (got == err)
		return true;
	if (got == ENOSPC)
		return !seen || !moved;
	/* 0 before the bad page: the VRAM filled up after something moved. */
	return got == 0 && err && (!seen || moved);
}

/* ---- drm_ioctl()'s view of a call ------------------------------------- */

static const struct core_ioctl *core_lookup(unsigned int nr)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(core_ioctls); i++)
		if (_IOC_NR(core_ioctls[i].cmd) == nr)
			return &core_ioctls[i];
	return NULL;
}

/* Can the kernel copy @n bytes from (or to) the argument? */
static bool arg_ok(const struct call *c, size_t n, bool write)
{
	if (!n)
		return true;	/* copy_*_user() of 0 bytes never fails */
	switch (c->amode) {
	case A_GOOD:
		return n <= ARGBUF_LEN - c->off;
	case A_EDGE:
		return n <= c->edge;
	case A_RO:
		return !write && n <= ARGBUF_LEN - c->off;
	default:
		return false;
	}
}

/* The driver's argument checks (EINVAL when they fail). */
static bool migrate_args_ok(const struct drm_vramsim_migrate *m)
{
	__u64 end;

	if (m->flags || m->pad || !m->length)
		return false;
	if ((m->start | m->length) & (PG - 1))
		return false;
	return !__builtin_add_overflow(m->start, m->length, &end) && end <= g_task_size;
}

/*
 * drm_ioctl(): type 'd' or ENOTTY; numbers DRM_COMMAND_BASE..END-1 index
 * the driver's table (EINVAL past it), others the core's (EINVAL past it or
 * on an empty entry).  in_size/out_size are the caller's size where both
 * the caller's and the real command's direction have the bit; the rest of
 * the kernel's copy is zeroed (a short structure is zero-extended, a long
 * one truncated).  Copy-in failure is EFAULT before the function runs,
 * copy-out failure EFAULT whatever it returned.
 */
static void predict(struct worker *w, const struct call *c, struct outcome *o)
{
	unsigned int cmd = c->cmd, nr = _IOC_NR(cmd), dcmd, i;
	const struct core_ioctl *ci;

	memset(o, 0, sizeof(*o));
	o->err = -1;
	if (_IOC_TYPE(cmd) != DRM_IOCTL_BASE) {
		o->cls = C_FOREIGN;
		o->err = ENOTTY;
		return;
	}
	if (nr >= DRM_COMMAND_BASE && nr < DRM_COMMAND_END) {
		i = nr - DRM_COMMAND_BASE;
		if (i >= ARRAY_SIZE(drv_cmds)) {
			o->cls = C_DRV_UNKNOWN;
			o->err = EINVAL;
			return;
		}
		o->cls = C_DRV_HOLE + i;
		dcmd = drv_cmds[i];
		if (!dcmd) {
			o->err = EINVAL;
			return;
		}
	} else {
		ci = core_lookup(nr);
		if (!ci) {
			/* only holes and numbers past the table are generated */
			o->cls = C_CORE_INVALID;
			o->err = EINVAL;
			return;
		}
		o->cls = ci->cls;
		dcmd = ci->cmd;
	}
	if (_IOC_DIR(cmd) & _IOC_DIR(dcmd) & _IOC_WRITE)
		o->in_size = _IOC_SIZE(cmd);
	if (_IOC_DIR(cmd) & _IOC_DIR(dcmd) & _IOC_READ)
		o->out_size = _IOC_SIZE(cmd);
	if (!arg_ok(c, o->in_size, false)) {
		o->err = EFAULT;
		return;
	}
	o->ran = true;
	o->out_fault = !arg_ok(c, o->out_size, true);
	switch (o->cls) {
	case C_CORE_REFUSED:
		o->err = EACCES;
		break;
	case C_CORE_VALID:
		o->err = dcmd == DRM_IOCTL_VERSION ? 0 : EINVAL;
		break;
	case C_QUERY:
		o->err = 0;
		break;
	default:
		memcpy(&o->k, w->in, umin(o->in_size, sizeof(o->k)));
		o->to_dev = o->cls == C_TO_DEV;
		o->validated = migrate_args_ok(&o->k);
		o->err = o->validated ? -1 : EINVAL;
		break;
	}
	if (o->out_fault)
		o->err = EFAULT;
}

/* ---- Output ------------------------------------------------------------ */

static void print_call(struct worker *w, const struct call *c, const struct outcome *o,
		       int got, __u64 moved, bool seen, const char *what)
{
	pthread_mutex_lock(&g_out);
	printf("# %s t%d call %lu [%s]: dev %d fd=%d cmd=%#x (dir %u nr %#x size %u) arg=%s%+d",
	       what, w->idx, w->n, c->tag, c->dev, c->fd, c->cmd, _IOC_DIR(c->cmd),
	       _IOC_NR(c->cmd), _IOC_SIZE(c->cmd), arg_names[c->amode],
	       c->amode == A_EDGE ? -(int)c->edge : (int)c->off);
	if (o->cls == C_TO_DEV || o->cls == C_TO_RAM)
		printf(" {start %#llx length %#llx flags %#x pad %#x}",
		       (unsigned long long)o->k.start, (unsigned long long)o->k.length,
		       o->k.flags, o->k.pad);
	printf(" -> %s", ename(got));
	if (seen)
		printf(" moved %#llx", (unsigned long long)moved);
	printf("; expected %s\n", w->why);
	fflush(stdout);
	pthread_mutex_unlock(&g_out);
}

static bool may_print(int kind)
{
	return __atomic_fetch_add(&g_printed[kind], 1, __ATOMIC_RELAXED) < print_max[kind];
}

static void mismatch(struct worker *w, const struct call *c, const struct outcome *o,
		     int got, __u64 moved, bool seen, int kind, const char *what)
{
	if (may_print(kind))
		print_call(w, c, o, got, moved, seen, what);
}

static __printf(3, 4) void note(struct worker *w, int kind, const char *fmt, ...)
{
	va_list ap;

	if (!may_print(kind))
		return;
	pthread_mutex_lock(&g_out);
	printf("# t%d call %lu: ", w->idx, w->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&g_out);
}

/* ---- Issuing a call ---------------------------------------------------- */

/* The process's resident memory in MiB (device pages count as anonymous). */
static unsigned long rss_mib(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * PG >> 20;
}

/*
 * One more call made; a progress line at every tenth of the run, with the
 * resident size: the suites run under a memory.max, and memory the model
 * forgets (left in RAM by a walk) shows here before an OOM kill.
 */
static void count_call(struct worker *w, int cls, int err)
{
	unsigned long done = __atomic_add_fetch(&g_done, 1, __ATOMIC_RELAXED);

	w->n++;
	w->t.calls[cls]++;
	w->t.hist[cls][err < NERR - 1 || err == E_KILLED ? err : NERR - 2]++;
	if (g_calls >= 10 && done % (g_calls / 10) == 0) {
		pthread_mutex_lock(&g_out);
		printf("# %lu calls, %.1f s, %lu MiB resident\n", done,
		       (now_us() - g_t0) / 1e6, rss_mib());
		fflush(stdout);
		pthread_mutex_unlock(&g_out);
	}
}

static unsigned long arg_pointer(struct worker *w, struct call *c)
{
	static const unsigned long kernel[] = {
		0xffff888000000000UL, 0xffffffff81000000UL, 0xffffffffff600000UL,
	};
	static const unsigned long noncanon[] = {
		0x8000000000000000UL, 0x0001000000000000UL << 8, 0xfffe000000000000UL,
	};

	switch (c->amode) {
	case A_GOOD:
		return (unsigned long)args_addr(w, AP_BUF) + c->off;
	case A_EDGE:
		return (unsigned long)args_addr(w, AP_NONE) - c->edge;
	case A_RO:
		return (unsigned long)args_addr(w, AP_RO) + c->off;
	case A_NULL:
		return 0;
	case A_KERNEL:
		return kernel[below(w, ARRAY_SIZE(kernel))];
	case A_UNMAPPED:
		return pm(w, 500) ? (unsigned long)args_addr(w, AP_HOLE) :
				    (unsigned long)slot_addr(w, 0) + SLOT_MAX + PG;
	case A_NONCANON:
		return noncanon[below(w, ARRAY_SIZE(noncanon))];
	default:
		return (unsigned long)args_addr(w, AP_NONE);
	}
}

/*
 * A device for a call: one of them at random, or w->force_dev.  With one
 * device nothing is drawn, so a seed replays what it did before there
 * were two.
 */
static int pick_dev(struct worker *w)
{
	int dev = g_ndev > 1 ? (int)below(w, g_ndev) : 0;

	return w->force_dev >= 0 ? w->force_dev : dev;
}

/* A call of @cmd on one of the fds, with the argument somewhere. */
static void init_call(struct worker *w, struct call *c, const char *tag, unsigned int cmd,
		      bool good)
{
	unsigned int r = below(w, 1000);

	memset(c, 0, sizeof(*c));
	c->tag = tag;
	c->cmd = cmd;
	c->timer_us = -1;
	c->dev = pick_dev(w);
	c->fd = pm(w, 700) ? g_fds[c->dev] : w->fds[c->dev];
	if (good || r < 850)
		c->amode = A_GOOD;
	else if (r < 890)
		c->amode = A_EDGE;
	else if (r < 920)
		c->amode = A_RO;
	else
		c->amode = A_NULL + below(w, NARG - A_NULL);
	if (c->amode == A_EDGE)
		c->edge = 1 + below(w, 64);
	if ((c->amode == A_GOOD || c->amode == A_RO) && pm(w, 100))
		c->off = 1 + below(w, 63);
	c->arg = arg_pointer(w, c);
}

/* A size for the ioctl encoding: 0, short, long, huge, or @size itself. */
static unsigned int pick_size(struct worker *w, unsigned int size)
{
	static const unsigned int odd[] = { 128, 129, 4096, 4097, IOC_SIZE_MAX };

	switch (below(w, 8)) {
	case 0:
		return 0;
	case 1:
	case 2:
		return size > 1 ? 1 + below(w, size - 1) : 0;
	case 3:
		return size + 1 + below(w, 64);
	case 4:
		return odd[below(w, ARRAY_SIZE(odd))];
	case 5:
		return below(w, IOC_SIZE_MAX + 1);
	default:
		return size;
	}
}

/* The encoding of @cmd, now and then with another direction or size. */
static unsigned int mutate_cmd(struct worker *w, unsigned int cmd, unsigned int permille)
{
	unsigned int dir = _IOC_DIR(cmd), size = _IOC_SIZE(cmd);

	if (!pm(w, permille))
		return cmd;
	switch (below(w, 3)) {
	case 0:
		dir = below(w, 4);
		break;
	case 1:
		size = pick_size(w, size);
		break;
	default:
		dir = below(w, 4);
		size = pick_size(w, size);
		break;
	}
	return _IOC(dir, _IOC_TYPE(cmd), _IOC_NR(cmd), size);
}

/* Bytes past the structure: a pattern, so that copies back can be checked. */
static void fill_in_tail(struct worker *w, size_t from, size_t to)
{
	size_t i;
	unsigned char salt = w->n;

	for (i = from; i < to; i++)
		w->in[i] = (unsigned char)(i * 7) ^ salt;
}

static void place_arg(struct worker *w, struct call *c)
{
	size_t n = umin(umax(_IOC_SIZE(c->cmd), 64) + 64, PREFILL_MAX);

	fill_in_tail(w, 64, n);
	c->prefill = n;
	switch (c->amode) {
	case A_GOOD:
		memcpy((void *)c->arg, w->in, n);
		break;
	case A_EDGE:
		memcpy((void *)c->arg, w->in, c->edge);
		c->prefill = c->edge;
		break;
	case A_RO:
		memcpy(w->ro_rw + c->off, w->in, umin(n, ARGBUF_LEN - c->off));
		break;
	default:
		c->prefill = 0;
		break;
	}
}

/* Bytes the command itself writes into the kernel's copy. */
static size_t driver_written(const struct outcome *o, size_t *from)
{
	*from = 0;
	switch (o->cls) {
	case C_QUERY:
		return o->err == 0 ? sizeof(struct drm_vramsim_query) : 0;
	case C_CORE_VALID:
		return sizeof(struct drm_version);
	case C_TO_DEV:
	case C_TO_RAM:
		*from = offsetof(struct drm_vramsim_migrate, moved);
		return sizeof(struct drm_vramsim_migrate);
	default:
		return 0;
	}
}

/*
 * What the argument holds after the call: the kernel's copy for out_size
 * bytes (what was copied in, zeroes past in_size, and what the command
 * wrote), the caller's bytes past it.  Returns false on a difference.
 */
static bool writeback_ok(struct worker *w, const struct call *c, const struct outcome *o)
{
	const unsigned char *p = (const unsigned char *)c->arg;
	size_t i, n = c->prefill, dfrom = 0, dto;
	unsigned char want;

	if (c->amode != A_GOOD && c->amode != A_EDGE)
		return true;
	if (o->out_fault)
		return true;	/* a partial copy, nothing defined */
	dto = o->ran ? driver_written(o, &dfrom) : 0;
	for (i = 0; i < n; i++) {
		if (i >= dfrom && i < dto && i < o->out_size)
			continue;
		if (!o->ran || i >= o->out_size)
			want = w->in[i];
		else
			want = i < o->in_size ? w->in[i] : 0;
		if (p[i] != want) {
			snprintf(w->why, sizeof(w->why),
				 "byte %zu of the argument %#x, found %#x (in %u out %u)",
				 i, want, p[i], o->in_size, o->out_size);
			return false;
		}
	}
	return true;
}

/*
 * The fields of QUERY and VERSION that the caller got back: QUERY's all,
 * pad 0 whatever the caller's bytes were (it is _IOR: nothing is copied in).
 */
static bool contents_ok(struct worker *w, const struct call *c, const struct outcome *o)
{
	const unsigned char *p = (const unsigned char *)c->arg;
	__u64 size = g_vram_sizes[c->dev];
	struct drm_vramsim_query q;
	struct drm_version v;
	size_t n = o->out_size;

	if (c->amode != A_GOOD || !o->ran || o->out_fault || o->err)
		return true;
	if (o->cls == C_QUERY) {
		memset(&q, 0, sizeof(q));
		memcpy(&q, p, umin(n, sizeof(q)));
		if ((n >= 8 && q.vram_size != size) ||
		    (n >= 16 && (q.vram_free > size || (q.vram_free & (PG - 1)))) ||
		    (n >= 20 && q.device != (__u32)c->dev) ||
		    (n >= 24 && q.pad)) {
			snprintf(w->why, sizeof(w->why),
				 "query: vram_size %llu, vram_free <= it, device %d, pad 0 (got %llu %llu %u %#x)",
				 (unsigned long long)size, c->dev,
				 (unsigned long long)q.vram_size, (unsigned long long)q.vram_free,
				 q.device, q.pad);
			return false;
		}
	} else if (o->cls == C_CORE_VALID) {
		memset(&v, 0, sizeof(v));
		memcpy(&v, p, umin(n, sizeof(v)));
		if ((n >= 4 && v.version_major != VRAMSIM_UAPI_MAJOR) ||
		    (n >= 8 && v.version_minor != VRAMSIM_UAPI_MINOR) ||
		    (n >= 24 && v.name_len != strlen("vramsim"))) {
			snprintf(w->why, sizeof(w->why),
				 "version %d.%d, name_len 7 (got %d.%d, %zu)", VRAMSIM_UAPI_MAJOR,
				 VRAMSIM_UAPI_MINOR, v.version_major, v.version_minor,
				 (size_t)v.name_len);
			return false;
		}
	}
	return true;
}

static void arm_timer(struct worker *w, long us)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 + 1 },
	};

	timer_settime(w->timer, 0, &its, NULL);
}

static void disarm_timer(struct worker *w)
{
	struct itimerspec its = { 0 };

	timer_settime(w->timer, 0, &its, NULL);
}

static unsigned int dev1_gen(void)
{
	return __atomic_load_n(&g_dev1_gen, __ATOMIC_SEQ_CST);
}

/*
 * Did something done on device @dev, begun when g_dev1_gen was @gen0,
 * overlap a removal of device 1?  Then it may have got ENODEV.
 */
static bool dev1_gone(int dev, unsigned int gen0)
{
	return dev == 1 && ((gen0 & 1) || dev1_gen() != gen0);
}

/* Issue @c, check everything about its result, count it. */
static int do_call(struct worker *w, struct call *c, struct outcome *o)
{
	__u64 moved = 0;
	bool seen = false, ok, unknown = false;
	int got, sig0 = 0;
	unsigned int gen0;

	place_arg(w, c);
	predict(w, c, o);
	if (c->timer_us >= 0) {
		sig0 = __atomic_load_n(&t_signals, __ATOMIC_RELAXED);
		arm_timer(w, c->timer_us);
	}
	gen0 = dev1_gen();
	got = ioctl(c->fd, c->cmd, c->arg) ? errno : 0;
	if (c->timer_us >= 0) {
		disarm_timer(w);
		w->t.signals += __atomic_load_n(&t_signals, __ATOMIC_RELAXED) != sig0;
		w->t.eintr += got == EINTR;
	}
	count_call(w, o->cls, got);
	w->t.calls_dev[c->dev]++;

	/*
	 * Device 1 went away during the call, or before it and the fd was
	 * not yet pointed at the new one: drm_ioctl() or drm_dev_enter()
	 * refused it, with nothing to check (whether the structure was
	 * copied back depends on which).
	 */
	if (got == ENODEV && dev1_gone(c->dev, gen0)) {
		w->t.enodev++;
		if (g_verbose) {
			snprintf(w->why, sizeof(w->why), "ENODEV, device 1 removed");
			print_call(w, c, o, got, moved, seen, "call");
		}
		return got;
	}

	if ((o->cls == C_TO_DEV || o->cls == C_TO_RAM) && o->ran && !o->out_fault &&
	    o->out_size >= sizeof(struct drm_vramsim_migrate) &&
	    (c->amode == A_GOOD || c->amode == A_EDGE)) {
		memcpy(&moved, (char *)c->arg + offsetof(struct drm_vramsim_migrate, moved),
		       sizeof(moved));
		seen = true;
	}

	if (o->validated && !o->out_fault) {
		ok = walk_ok(w, w->pst, o, got, moved, seen, c->eintr_ok, &unknown);
		if (!ok && c->race)
			ok = walk_ok(w, w->alt, o, got, moved, seen, c->eintr_ok, &unknown);
		w->t.unchecked += unknown;
	} else {
		snprintf(w->why, sizeof(w->why), "%s", ename(o->err));
		ok = got == o->err;
	}
	if (!ok) {
		w->t.errno_bad++;
		mismatch(w, c, o, got, moved, seen, PR_ERRNO, "ERRNO MISMATCH");
	} else if (g_verbose) {
		print_call(w, c, o, got, moved, seen, "call");
	}

	/* moved is written back on every return: 0 when the checks refused. */
	if (ok && seen && !o->validated && moved) {
		w->t.struct_bad++;
		snprintf(w->why, sizeof(w->why),
			 "moved 0 after the argument checks refused the call");
		mismatch(w, c, o, got, moved, seen, PR_MOVED, "MOVED MISMATCH");
	}
	if (!writeback_ok(w, c, o) || !contents_ok(w, c, o)) {
		w->t.struct_bad++;
		mismatch(w, c, o, got, moved, seen, PR_STRUCT, "STRUCT MISMATCH");
	}
	return got;
}

/* ---- The arena ---------------------------------------------------------- */

static bool map_fixed(struct worker *w, void *a, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	if (mmap(a, len, prot, flags | MAP_FIXED, fd, off) == MAP_FAILED) {
		note(w, PR_OTHER, "mmap(%p, %#zx): %s", a, len, strerror(errno));
		w->t.sys_bad++;
		return false;
	}
	return true;
}

/* A new segment of @len bytes at offset @off of slot @s. */
static void map_segment(struct worker *w, unsigned int s, size_t off, size_t len)
{
	char *a = slot_addr(w, s) + off;
	int anon = MAP_PRIVATE | MAP_ANONYMOUS, r = below(w, 100);

	if (r < 40) {			/* data */
		if (!map_fixed(w, a, len, PROT_READ | PROT_WRITE, anon, -1, 0))
			return;
		r = below(w, 10);
		if (r < 4)
			madvise(a, len, MADV_HUGEPAGE);
		else if (r < 5)
			madvise(a, len, MADV_NOHUGEPAGE);
		fill_at(slot_addr(w, s), off, len, w->salt[s]);
		set_pages(w->pst, w, a, len, P_DATA);
		if (r == 5)
			mprotect(a, len, PROT_READ);
		else if (r == 6 && !mlock(a, len))
			set_pages(w->pst, w, a, len, P_DATA | P_LOCKED);
	} else if (r < 55) {		/* untouched */
		if (map_fixed(w, a, len, PROT_READ | PROT_WRITE, anon, -1, 0))
			set_pages(w->pst, w, a, len, P_ZERO);
		if (pm(w, 300))
			madvise(a, len, MADV_HUGEPAGE);
	} else if (r < 65) {		/* PROT_NONE, populated or not */
		if (!map_fixed(w, a, len, PROT_READ | PROT_WRITE, anon, -1, 0))
			return;
		if (pm(w, 500))
			memset(a, 0x5a, len);
		mprotect(a, len, PROT_NONE);
		set_pages(w->pst, w, a, len, P_ANON);
	} else if (r < 75) {		/* MAP_SHARED anonymous: shmem */
		if (!map_fixed(w, a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			       -1, 0))
			return;
		memset(a, 0xa5, umin(len, 4 * PG));
		set_pages(w->pst, w, a, len, P_FILE);
	} else if (r < 85) {		/* a tmpfs file, private (written: COW pages) */
		if (!map_fixed(w, a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, w->memfd, off))
			return;
		memset(a, 0x3c, umin(len, 2 * PG));
		set_pages(w->pst, w, a, len, P_FILE);
	} else if (r < 95) {		/* the same file, shared */
		if (!map_fixed(w, a, len, PROT_READ | PROT_WRITE, MAP_SHARED, w->memfd, off))
			return;
		set_pages(w->pst, w, a, len, P_FILE);
	}
	/* else a hole inside the slot */
}

/* Replace slot @s by one to three new segments. */
static void reroll(struct worker *w, unsigned int s)
{
	char *a = slot_addr(w, s);
	size_t off = 0, len;
	int i, nseg = 1 + below(w, 3);

	munmap(a, SLOT_MAX);
	set_pages(w->pst, w, a, SLOT_MAX, P_HOLE);
	w->salt[s] = rnd(w) | 1;
	/*
	 * Mostly a few pages: every page migrated costs tens of microseconds
	 * on a debug kernel under TCG.  Now and then 2 or 4 MiB, for THPs.
	 */
	for (i = 0; i < nseg && off < SLOT_MAX; i++) {
		if (pm(w, 100) && !off)
			len = (1 + below(w, 2)) * SZ_2M;
		else
			len = some_pages(w, umin(64, (SLOT_MAX - off) / PG)) * PG;
		map_segment(w, s, off, len);
		off += len;
	}
}

/* Read back the pages [p0, p0 + n) of slot @s that have known contents. */
static void check_range(struct worker *w, unsigned int s, size_t p0, size_t n)
{
	char *a = slot_addr(w, s);
	size_t p, i;
	long bad;

	w->t.checks++;
	for (p = p0; p < p0 + n; p++) {
		unsigned char k = P_KIND(w->pst[(a - w->base) / PG + p]);
		const __u64 *wd = (const __u64 *)(a + p * PG);

		if (k == P_DATA) {
			bad = check_at(a, p * PG, PG, w->salt[s]);
			if (bad < 0)
				continue;
			note(w, PR_DATA, "DATA slot %u page %zu (%p) word %ld: %#llx, not %#llx",
			     s, p, a + p * PG, bad, (unsigned long long)((const __u64 *)a)[bad],
			     (unsigned long long)((bad * 8) ^ w->salt[s]));
			w->t.data_bad++;
		} else if (k == P_ZERO) {
			for (i = 0; i < PG / 8 && !wd[i]; i++)
				;
			if (i == PG / 8)
				continue;
			note(w, PR_DATA, "DATA slot %u page %zu (%p) word %zu: %#llx, expected 0",
			     s, p, a + p * PG, i, (unsigned long long)wd[i]);
			w->t.data_bad++;
		}
	}
}

/* A random page range [*off, *off + *len) of slot @s. */
static void slot_subrange(struct worker *w, size_t *off, size_t *len)
{
	*off = below(w, SLOT_PAGES) * PG;
	*len = some_pages(w, (SLOT_MAX - *off) / PG) * PG;
}

static bool range_has(struct worker *w, char *a, size_t len, unsigned char bit)
{
	size_t i, p = (a - w->base) / PG;

	for (i = 0; i < len / PG; i++)
		if (w->pst[p + i] & bit)
			return true;
	return false;
}

/* Close this thread's fd of device @dev and open the device again. */
static void reopen_fd(struct worker *w, int dev)
{
	if (dev)
		pthread_mutex_lock(&g_dev1_lock);
	close(w->fds[dev]);
	w->fds[dev] = vramsim_open_device(dev);
	if (w->fds[dev] < 0) {
		note(w, PR_OTHER, "cannot open vramsim device %d again", dev);
		w->t.sys_bad++;
		w->fds[dev] = dup(g_fds[dev]);
	}
	if (dev)
		pthread_mutex_unlock(&g_dev1_lock);
}

static void maintenance(struct worker *w)
{
	unsigned int s = below(w, NSLOTS), d, r = below(w, 100);
	char *a = slot_addr(w, s), *b;
	size_t off, len, i, p;

	w->t.maint++;
	slot_subrange(w, &off, &len);
	p = (a + off - w->base) / PG;
	if (r < 30) {
		reroll(w, s);
	} else if (r < 45) {
		/* DONTNEED: anonymous pages read back as zeroes */
		if (range_has(w, a + off, len, P_LOCKED))
			return;
		madvise(a + off, len, MADV_DONTNEED);
		for (i = 0; i < len / PG; i++)
			if (P_KIND(w->pst[p + i]) == P_DATA)
				w->pst[p + i] = P_ZERO;
	} else if (r < 55) {
		/* a hole in the middle: splits device THPs */
		munmap(a + off, len);
		set_pages(w->pst, w, a + off, len, P_HOLE);
	} else if (r < 65) {
		mprotect(a + off, len, pm(w, 500) ? PROT_READ : PROT_READ | PROT_WRITE);
		/* pages that were PROT_NONE are readable now, but stay unchecked */
	} else if (r < 75) {
		/* move the slot's first segment elsewhere, device pages and all */
		d = below(w, NSLOTS);
		for (len = 0; len < SLOT_MAX; len += PG)
			if (P_KIND(w->pst[(a - w->base) / PG + len / PG]) == P_HOLE)
				break;
		if (d == s || !len)
			return;
		b = slot_addr(w, d);
		munmap(b, SLOT_MAX);
		set_pages(w->pst, w, b, SLOT_MAX, P_HOLE);
		if (mremap(a, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, b) == MAP_FAILED)
			return;	/* EFAULT: the segment is several VMAs now */
		memcpy(&w->pst[(b - w->base) / PG], &w->pst[(a - w->base) / PG], len / PG);
		set_pages(w->pst, w, a, len, P_HOLE);
		w->salt[d] = w->salt[s];
	} else if (r < 95) {
		check_range(w, s, 0, SLOT_PAGES);
	} else {
		reopen_fd(w, g_ndev > 1 ? below(w, g_ndev) : 0);
	}
}

/* Forget device pages left in the 1 TiB region: zap what a walk filled. */
static void reset_huge(struct worker *w, __u64 start, __u64 len)
{
	__u64 h = (uintptr_t)w->huge, end;

	if (start >= h + HUGE_LEN || start + len <= h)
		return;
	start = umax(start, h);
	end = umin(umin(start + len, h + HUGE_LEN), start + 2 * g_vram_max + (16UL << 20));
	madvise((void *)(uintptr_t)start, end - start, MADV_DONTNEED);
}

/* TO_RAM must leave never-populated memory unpopulated. */
static void check_unpopulated(struct worker *w, __u64 start, __u64 len)
{
	static __thread unsigned char vec[4096];
	__u64 h = (uintptr_t)w->huge;
	size_t i, n;

	if (start < h || start >= h + HUGE_LEN)
		return;
	len = umin(umin(len, h + HUGE_LEN - start), sizeof(vec) * PG);
	if (mincore((void *)(uintptr_t)start, len, vec)) {
		w->t.sys_bad++;
		return;
	}
	n = len / PG;
	for (i = 0; i < n && !(vec[i] & 1); i++)
		;
	if (i < n) {
		w->t.populated_bad++;
		note(w, PR_OTHER,
		     "UNTOUCHED MEMORY POPULATED: page %#llx resident after MIGRATE_TO_RAM of [%#llx, +%#llx)",
		     (unsigned long long)(start + i * PG), (unsigned long long)start,
		     (unsigned long long)len);
	}
}

/* ---- Operations ---------------------------------------------------------- */

/* A range of the arena for a migrate: slots, their holes, the argument pages. */
static void arena_range(struct worker *w, __u64 *start, __u64 *len)
{
	unsigned int s = below(w, NSLOTS);
	__u64 a = (uintptr_t)slot_addr(w, s), p;

	switch (below(w, 8)) {
	case 0:		/* the whole slot */
		*start = a;
		*len = SLOT_MAX;
		break;
	case 1:		/* into the hole after it */
		p = below(w, SLOT_PAGES);
		*start = a + p * PG;
		*len = (SLOT_PAGES - p + 1 + below(w, 16)) * PG;
		break;
	case 2:		/* across slots */
		*start = a + below(w, SLOT_PAGES) * PG;
		*len = some_pages(w, (NSLOTS - s) * SLOT_SPAN / PG) * PG;
		break;
	case 3:		/* the argument pages */
		p = below(w, AP_END + 3);
		*start = (uintptr_t)args_addr(w, 0) + p * PG;
		*len = some_pages(w, 16 - p) * PG;
		break;
	case 4:		/* 2 MiB chunks: device THPs */
		*start = a + below(w, 2) * SZ_2M;
		*len = (1 + below(w, 2)) * SZ_2M;
		break;
	default:
		*start = a + below(w, SLOT_PAGES) * PG;
		*len = some_pages(w, SLOT_PAGES) * PG;
		break;
	}
}

/*
 * A range of the 1 TiB region (its first half is MADV_HUGEPAGE).  Every
 * page that moves costs a lot on a debug kernel under TCG, and a walk holds
 * the mmap lock that every other thread's mmap() and munmap() wait for, so
 * mostly a few pages to the device, and walks of at most 16 MiB of holes to
 * RAM (about 0.1 ms per 2 MiB window).  Now and then (1%) the VRAM is filled, mostly
 * with 2 MiB folios (a second or so), or 1 GiB is walked.  64 KiB at most
 * to RAM if the driver populates what it walks: the guest's RAM is finite.
 */
static void huge_range(struct worker *w, bool to_dev, __u64 *start, __u64 *len)
{
	__u64 h = (uintptr_t)w->huge, off, max = to_dev ? 16 * PG : 16UL << 20;
	bool big = pm(w, 10);

	if (big)
		max = to_dev ? HUGE_LEN : SZ_1G;
	if (!to_dev && !g_ram_walk_ok)
		max = 16 * PG;

	switch (big && to_dev && pm(w, 800) ? 4 : below(w, 4)) {
	case 0:
		off = 0;
		break;
	case 1:		/* across its end into the hole after it */
		off = HUGE_LEN - some_pages(w, 1024) * PG;
		break;
	case 2:
		off = below(w, HUGE_LEN / SZ_2M) * SZ_2M;
		break;
	case 3:
		off = below(w, HUGE_LEN / PG) * PG;
		break;
	default:	/* in the THP half */
		off = below(w, HUGE_LEN / 2 / SZ_2M) * SZ_2M;
		break;
	}
	*start = h + off;
	*len = some_pages(w, max / PG) * PG;
	if (off + *len > HUGE_LEN)
		*len = umin(*len, HUGE_LEN - off + SZ_1G);
}

/* Start and length that are mostly invalid, or valid where nothing is mapped. */
static void wild_range(struct worker *w, __u64 *start, __u64 *len)
{
	__u64 s, gap = (uintptr_t)w->huge + HUGE_LEN, prefix;
	struct drm_vramsim_migrate m = { 0 };
	int err;

	if (pm(w, 150))
		s = rnd(w);
	else if (pm(w, 200))
		s = gap + below(w, GAP_LEN / PG) * PG;
	else
		s = g_wild_starts[below(w, g_nwild_starts)];
	switch (below(w, 14)) {
	case 0:
		*len = 0;
		break;
	case 1:
		*len = 1 + below(w, PG - 1);
		break;
	case 2:
		*len = PG;
		break;
	case 3:
		*len = SZ_2M;
		break;
	case 4:
		*len = SZ_1T;
		break;
	case 5:
		*len = 1ULL << 63;
		break;
	case 6:
		*len = ~0ULL & ~(PG - 1);
		break;
	case 7:
		*len = -s;			/* ends exactly at 2^64 */
		break;
	case 8:
		*len = -s + PG;			/* wraps */
		break;
	case 9:
		*len = g_task_size - s;		/* ends exactly at TASK_SIZE */
		break;
	case 10:
		*len = g_task_size - s + PG;	/* one page past it */
		break;
	case 11:
		*len = rnd(w);
		break;
	default:
		*len = some_pages(w, 1ULL << 30) * PG;
		break;
	}
	/* a random start that passes the checks must land where nothing is */
	m.start = s;
	m.length = *len;
	if (migrate_args_ok(&m) &&
	    (!classify(w, w->pst, s, s + *len, &err, &prefix) || !err || prefix))
		s = gap + (s % GAP_LEN) / PG * PG;
	*start = s;
}

/* A migrate of some range (WHERE_*), with fuzzed fields and encoding. */
enum { WHERE_ARENA, WHERE_HUGE, WHERE_WILD };

static int op_migrate(struct worker *w, int where)
{
	struct drm_vramsim_migrate m = { 0 };
	struct outcome o;
	struct call c;
	bool to_dev = pm(w, 500);
	unsigned int r;
	__u64 start, len;

	if (where == WHERE_ARENA)
		arena_range(w, &start, &len);
	else if (where == WHERE_HUGE)
		huge_range(w, to_dev, &start, &len);
	else
		wild_range(w, &start, &len);
	if (pm(w, 60))
		start += 1 + below(w, PG - 1);
	if (pm(w, 60))
		len += 1 + below(w, PG - 1);
	m.start = start;
	m.length = len;
	m.flags = pm(w, 40) ? (__u32)rnd(w) | 1 : 0;
	m.pad = pm(w, 40) ? (__u32)rnd(w) | 1 : 0;
	m.moved = pm(w, 700) ? rnd(w) : 0;
	for (r = 0; r < 64; r++)
		w->in[r] = rnd(w);
	memcpy(w->in, &m, sizeof(m));
	init_call(w, &c, "migrate", to_dev ? VRAMSIM_TO_DEV : VRAMSIM_TO_RAM, false);
	c.cmd = mutate_cmd(w, c.cmd, 250);
	do_call(w, &c, &o);
	if (o.validated && (o.to_dev || !g_ram_walk_ok))
		reset_huge(w, o.k.start, o.k.length);
	else if (o.validated)
		check_unpopulated(w, o.k.start, o.k.length);
	return 1;
}

/* A valid migrate of [a, a + len) with the right encoding. */
static int valid_migrate(struct worker *w, const char *tag, bool to_dev, __u64 a, __u64 len,
			 struct call *c, struct outcome *o)
{
	struct drm_vramsim_migrate m = {
		.start = a,
		.length = len,
		.moved = rnd(w),
	};
	unsigned int i;

	for (i = 0; i < 64; i++)
		w->in[i] = 0;
	memcpy(w->in, &m, sizeof(m));
	init_call(w, c, tag, to_dev ? VRAMSIM_TO_DEV : VRAMSIM_TO_RAM, true);
	return do_call(w, c, o);
}

/* The first run of anonymous pages of slot @s from a random page, or 0. */
static size_t anon_run(struct worker *w, unsigned int s, size_t *off)
{
	size_t p0 = (slot_addr(w, s) - w->base) / PG, p = below(w, SLOT_PAGES), q;

	for (; p < SLOT_PAGES; p++) {
		unsigned char k = P_KIND(w->pst[p0 + p]);

		if (k == P_ZERO || k == P_DATA || k == P_ANON)
			break;
	}
	for (q = p; q < SLOT_PAGES; q++) {
		unsigned char k = P_KIND(w->pst[p0 + q]);

		if (k != P_ZERO && k != P_DATA && k != P_ANON)
			break;
	}
	*off = p * PG;
	return (q - p) * PG;
}

/* Real buffers to the device and back, then their data checked. */
static int op_roundtrip(struct worker *w)
{
	unsigned int s = below(w, NSLOTS), n = 1;
	struct outcome o;
	struct call c;
	size_t off, len = anon_run(w, s, &off);
	char *a = slot_addr(w, s) + off;

	if (!len) {
		reroll(w, s);
		return op_migrate(w, WHERE_ARENA);
	}
	w->t.roundtrips++;
	/*
	 * Mostly a few pages; one in two hundred the whole run, up to 4 MiB
	 * with THPs in it.  Those took 6 s each on the debug kernel under
	 * TCG: at one in twenty they were a third of a 10^5-call run's time,
	 * at one in fifty still more than half of the round trips' time.
	 */
	if (pm(w, 995))
		len = umin(len, some_pages(w, 8) * PG);
	valid_migrate(w, "roundtrip", true, (uintptr_t)a, len, &c, &o);
	if (pm(w, 600)) {
		valid_migrate(w, "roundtrip", false, (uintptr_t)a, len, &c, &o);
		n++;
	}
	if (pm(w, 500))
		check_range(w, s, off / PG, len / PG);
	return n;
}

static void *helper_main(void *arg)
{
	struct worker *w = arg;
	__u64 t0;

	for (;;) {
		while (sem_wait(&w->go))
			;
		if (w->quit)
			break;
		t0 = now_us();
		while (now_us() - t0 < w->unmap_delay_us)
			;
		w->unmap_ret = munmap(w->unmap_addr, w->unmap_len);
		sem_post(&w->done);
	}
	return NULL;
}

/* A migrate while the helper thread munmaps part of the range. */
static int op_race(struct worker *w)
{
	unsigned int s = below(w, NSLOTS);
	size_t off, len = anon_run(w, s, &off), uoff, ulen;
	char *a = slot_addr(w, s) + off;
	struct drm_vramsim_migrate m = { 0 };
	struct outcome o;
	struct call c;

	if (!len || !w->helper_ok)
		return op_roundtrip(w);
	w->t.races++;
	if (pm(w, 900))
		len = umin(len, some_pages(w, 16) * PG);
	uoff = below(w, len / PG) * PG;
	ulen = pm(w, 300) ? len - uoff : some_pages(w, (len - uoff) / PG) * PG;
	memcpy(w->alt, w->pst, sizeof(w->alt));
	set_pages(w->alt, w, a + uoff, ulen, P_HOLE);
	w->unmap_addr = a + uoff;
	w->unmap_len = ulen;
	w->unmap_delay_us = below(w, 300);
	m.start = (uintptr_t)a;
	m.length = len;
	m.moved = rnd(w);
	memset(w->in, 0, 64);
	memcpy(w->in, &m, sizeof(m));
	init_call(w, &c, "munmap race", pm(w, 600) ? VRAMSIM_TO_DEV : VRAMSIM_TO_RAM, true);
	c.race = true;
	sem_post(&w->go);
	do_call(w, &c, &o);
	while (sem_wait(&w->done))
		;
	if (w->unmap_ret)
		w->t.sys_bad++;
	memcpy(w->pst, w->alt, sizeof(w->pst));
	return 1;
}

/*
 * A long walk over the 1 TiB region with a timer signal (no SA_RESTART) in
 * it.  Only a fatal signal stops a walk (EINTR), so a TO_RAM walk runs to
 * its end: at most 1 GiB of it (0.3-0.6 s on the debug kernel under TCG),
 * where all of the 1 TiB would take minutes.  To the device, the walk
 * stops when the VRAM is full.
 */
static int op_signal(struct worker *w)
{
	static const __u64 lens[] = {
		16UL << 20, 16UL << 20, 64UL << 20, 64UL << 20, 256UL << 20, SZ_1G,
	};
	bool to_dev = !g_ram_walk_ok || pm(w, 300);
	__u64 len = to_dev ? HUGE_LEN : lens[below(w, ARRAY_SIZE(lens))];
	struct outcome o;
	struct call c;
	struct drm_vramsim_migrate m = {
		.start = (uintptr_t)w->huge,
		.length = len,
		.moved = rnd(w),
	};

	if (!w->timer_ok)
		return op_migrate(w, WHERE_HUGE);
	w->t.signal_calls++;
	memset(w->in, 0, 64);
	memcpy(w->in, &m, sizeof(m));
	init_call(w, &c, "signal", to_dev ? VRAMSIM_TO_DEV : VRAMSIM_TO_RAM, true);
	c.eintr_ok = true;
	c.timer_us = below(w, 20000);
	do_call(w, &c, &o);
	if (to_dev)
		reset_huge(w, m.start, len);
	else
		check_unpopulated(w, m.start, len);
	return 1;
}

/* A forked child walks the 1 TiB region and is SIGKILLed in the middle. */
static int op_kill(struct worker *w)
{
	bool to_dev = !g_ram_walk_ok || pm(w, 300);
	unsigned int cmd = to_dev ? VRAMSIM_TO_DEV : VRAMSIM_TO_RAM;
	int cls = to_dev ? C_TO_DEV : C_TO_RAM, p[2], st = 0;
	struct timespec delay = { 0, below(w, 20000) * 1000 };
	int dev = pick_dev(w), fd = w->fds[dev];
	unsigned int gen0;
	__u64 t0, lat;
	char x = 1;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		w->t.sys_bad++;
		return 0;
	}
	w->t.kills++;
	__atomic_store_n(&w->cres->state, 0, __ATOMIC_SEQ_CST);
	gen0 = dev1_gen();
	pid = fork();
	if (!pid) {
		struct drm_vramsim_migrate m = {
			.start = (uintptr_t)w->huge,
			.length = HUGE_LEN,
		};
		int ret;

		close(p[0]);
		if (write(p[1], &x, 1) != 1)
			_exit(2);
		ret = ioctl(fd, cmd, &m);
		w->cres->err = ret ? errno : 0;
		w->cres->moved = m.moved;
		__atomic_store_n(&w->cres->state, 1, __ATOMIC_SEQ_CST);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &x, 1) != 1) {
		close(p[0]);
		w->t.sys_bad++;
		return 0;
	}
	close(p[0]);
	nanosleep(&delay, NULL);
	t0 = now_us();
	kill(pid, SIGKILL);
	/* Bound the wait: a child still walking after 120 s hangs. */
	while (waitpid(pid, &st, WNOHANG) != pid) {
		if (now_us() - t0 > 120000000ULL) {
			w->t.hang_bad++;
			note(w, PR_OTHER, "HANG: child %d walking 120 s after SIGKILL (%s 1 TiB)",
			     pid,
			     class_names[cls]);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(1000);
	}
	lat = now_us() - t0;
	w->t.kill_lat_max_us = umax(w->t.kill_lat_max_us, lat);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		w->t.sys_bad++;
		note(w, PR_OTHER, "child of a SIGKILL test ended with status %#x", st);
	}
	if (__atomic_load_n(&w->cres->state, __ATOMIC_SEQ_CST) == 1) {
		/* It finished first: the result must be a normal one. */
		int err = w->cres->err;
		__u64 moved = w->cres->moved;

		count_call(w, cls, err);
		if (err == ENODEV && dev1_gone(dev, gen0)) {
			w->t.enodev++;
		} else if (!(err == 0 && (to_dev || !moved)) &&
			   !(to_dev && err == ENOSPC && !moved)) {
			w->t.errno_bad++;
			note(w, PR_ERRNO,
			     "ERRNO MISMATCH [kill]: child's %s of 1 TiB untouched on device %d -> %s moved %#llx; expected 0%s",
			     class_names[cls], dev, ename(err), (unsigned long long)moved,
			     to_dev ? "|ENOSPC" : " with moved 0");
		}
	} else {
		w->t.kills_mid++;
		count_call(w, cls, E_KILLED);
	}
	w->t.calls_dev[dev]++;
	return 1;
}

static unsigned int random_dir_size(struct worker *w, unsigned int type, unsigned int nr)
{
	return _IOC(below(w, 4), type, nr, pick_size(w, 8 * (1 + below(w, 8))));
}

/*
 * The debugfs stats of a random device, checked where they cannot change:
 * the policy, the size, the device number.  Device 1 removed meanwhile:
 * ENODEV (the QUERY vs_stats() ends with), or ENOENT (its files were gone
 * and the fd already points at the new device 1).
 */
static void check_stats_file(struct worker *w)
{
	struct vramsim_stats s;
	unsigned int gen0;
	int dev = pick_dev(w), err;

	gen0 = dev1_gen();
	err = -vs_stats(w->fds[dev], &s);
	if ((err == ENODEV || err == ENOENT) && dev1_gone(dev, gen0)) {
		w->t.enodev++;
		return;
	}
	if (err) {
		w->t.errno_bad++;
		note(w, PR_ERRNO, "debugfs stats of device %d: %s", dev, ename(err));
	} else if (s.prepare != g_prepare || s.vram_size != g_vram_sizes[dev] ||
		   s.device != (__u32)dev || s.vram_free > s.vram_size) {
		w->t.struct_bad++;
		note(w, PR_STRUCT,
		     "debugfs stats of device %d: prepare %s, vram_size %llu, device %u, vram_free %llu",
		     dev, vramsim_prepare_name(s.prepare), (unsigned long long)s.vram_size,
		     s.device, (unsigned long long)s.vram_free);
	}
}

/*
 * QUERY with its encoding mutated; now and then the empty number 0x00 as
 * uapi 1.x's STATS encoded it or with any direction and size (EINVAL), or
 * a read of the debugfs stats.
 */
static int op_query(struct worker *w)
{
	unsigned int r = below(w, 100), cmd, i;
	struct outcome o;
	struct call c;

	if (r < 5) {
		check_stats_file(w);
		return 1;
	}
	for (i = 0; i < 64; i++)
		w->in[i] = rnd(w);
	if (r < 10)
		cmd = pm(w, 500) ? VRAMSIM_STATS_1_0 : VRAMSIM_STATS_1_3;
	else if (r < 15)
		cmd = random_dir_size(w, DRM_IOCTL_BASE, DRM_COMMAND_BASE + 0x00);
	else
		cmd = mutate_cmd(w, DRM_IOCTL_VRAMSIM_QUERY, 300);
	init_call(w, &c, "query", cmd, false);
	do_call(w, &c, &o);
	return 1;
}

/* Driver numbers past the table: 0x44..0x9f. */
static int op_drv_unknown(struct worker *w)
{
	const unsigned int first = DRM_COMMAND_BASE + ARRAY_SIZE(drv_cmds);
	unsigned int nr = first + below(w, DRM_COMMAND_END - first);
	struct outcome o;
	struct call c;
	unsigned int i;

	for (i = 0; i < 64; i++)
		w->in[i] = rnd(w);
	init_call(w, &c, "driver nr", random_dir_size(w, DRM_IOCTL_BASE, nr), false);
	do_call(w, &c, &o);
	return 1;
}

static int op_core(struct worker *w)
{
	unsigned int r = below(w, 100), i, cmd;
	const struct core_ioctl *ci;
	struct drm_version v = { 0 };
	struct outcome o;
	struct call c;

	for (i = 0; i < 64; i++)
		w->in[i] = rnd(w);
	if (r < 55) {
		ci = &core_ioctls[below(w, ARRAY_SIZE(core_ioctls))];
		cmd = mutate_cmd(w, ci->cmd, 300);
		if (ci->cmd == DRM_IOCTL_VERSION) {
			/* lengths of 0: nothing is copied to the pointers */
			v.version_patchlevel = rnd(w);
			v.name = (char *)(uintptr_t)rnd(w);
			memcpy(w->in, &v, sizeof(v));
		}
	} else if (r < 80) {
		cmd = random_dir_size(w, DRM_IOCTL_BASE, core_holes[below(w, sizeof(core_holes))]);
	} else {
		cmd = random_dir_size(w, DRM_IOCTL_BASE,
				      CORE_IOCTL_COUNT + below(w, 0x100 - CORE_IOCTL_COUNT));
	}
	init_call(w, &c, "core", cmd, false);
	do_call(w, &c, &o);
	return 1;
}

/* Other ioctl types: ENOTTY from drm_ioctl() (none that do_vfs_ioctl() takes). */
static int op_foreign(struct worker *w)
{
	static const unsigned char vfs_types[] = { 'd', 'T', 'f', 'X', 0x94, 0x15, 0x00 };
	unsigned int type, i;
	struct outcome o;
	struct call c;

	do {
		type = below(w, 256);
		for (i = 0; i < sizeof(vfs_types) && vfs_types[i] != type; i++)
			;
	} while (i < sizeof(vfs_types));
	for (i = 0; i < 64; i++)
		w->in[i] = rnd(w);
	init_call(w, &c, "type", random_dir_size(w, type, below(w, 256)), false);
	do_call(w, &c, &o);
	return 1;
}

/*
 * Remove device 1 (num_devices=1) while some of this thread's data is on
 * it, and re-create it.  The removal evicts its memory to RAM: the data
 * must read back intact, and the files still open on it must get ENODEV
 * (checked on the shared one).  Then every descriptor of device 1, the
 * shared one and each thread's, is dup2()ed to the new device, so that
 * the other threads carry on with the same fd numbers.  Calls on device 1
 * from the removal until then may get ENODEV (g_dev1_gen is odd).  The
 * data are checked last, with nothing on the new device 1 of this
 * thread's.
 */
static int op_unplug(struct worker *w)
{
	unsigned int s = below(w, NSLOTS);
	size_t off, len = anon_run(w, s, &off);
	char *a = slot_addr(w, s) + off;
	struct vramsim_stats st;
	struct drm_vramsim_query q;
	int fd, err_query, err_migrate, i;
	struct outcome o;
	struct call c;
	__u64 moved, t;

	if (!g_unplug_ok)
		return op_query(w);
	len = umin(len, SZ_2M);
	pthread_mutex_lock(&g_dev1_lock);
	if (dev1_gen() & 1) {
		/* An earlier re-creation failed: there is no device 1. */
		pthread_mutex_unlock(&g_dev1_lock);
		return op_query(w);
	}
	w->t.unplugs++;
	if (len) {
		w->force_dev = 1;
		valid_migrate(w, "unplug", true, (uintptr_t)a, len, &c, &o);
		w->force_dev = -1;
		memcpy(&moved, (char *)c.arg + offsetof(struct drm_vramsim_migrate, moved),
		       sizeof(moved));
		w->t.unplug_bytes += moved;
	}
	if (!vs_stats(g_fds[1], &st))
		w->t.unplug_folios += live_folios(&st);

	__atomic_add_fetch(&g_dev1_gen, 1, __ATOMIC_SEQ_CST);
	t = now_us();
	if (vramsim_set_num_devices(1)) {
		note(w, PR_OTHER, "UNPLUG: num_devices=1: %s", strerror(errno));
		w->t.sys_bad++;
		__atomic_add_fetch(&g_dev1_gen, 1, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&g_dev1_lock);
		return 1;
	}
	w->t.unplug_us[0] += now_us() - t;
	err_query = -vs_query(g_fds[1], &q);
	err_migrate = -vs_migrate(g_fds[1], VRAMSIM_TO_DEV, args_addr(w, AP_BUF), PG, NULL);
	if (err_query != ENODEV || err_migrate != ENODEV) {
		w->t.unplug_enodev_bad++;
		note(w, PR_ERRNO,
		     "UNPLUG: device 1 removed, its open file: QUERY -> %s, MIGRATE_TO_DEVICE -> %s; expected ENODEV",
		     ename(err_query), ename(err_migrate));
	}
	fd = vramsim_open_device(1);
	if (fd >= 0) {
		note(w, PR_OTHER, "UNPLUG: device 1 still has a render node after num_devices=1");
		w->t.sys_bad++;
		close(fd);
	}

	t = now_us();
	fd = vramsim_set_num_devices(g_num_devices) ? -1 : vramsim_open_device(1);
	w->t.unplug_us[1] += now_us() - t;
	if (fd < 0) {
		/* g_dev1_gen stays odd: device 1 fails with ENODEV from now on. */
		note(w, PR_OTHER, "UNPLUG: cannot re-create device 1 (num_devices=%d): %s",
		     g_num_devices, strerror(errno));
		w->t.sys_bad++;
		pthread_mutex_unlock(&g_dev1_lock);
		return 1;
	}
	if (vs_query(fd, &q) || q.device != 1 || q.vram_size != g_vram_sizes[1]) {
		note(w, PR_OTHER, "UNPLUG: the new device 1 says device %u, %llu bytes of VRAM",
		     q.device, (unsigned long long)q.vram_size);
		w->t.sys_bad++;
	}
	if (dup2(fd, g_fds[1]) < 0)
		w->t.sys_bad++;
	for (i = 0; i < g_nworkers; i++)
		if (g_workers[i].fds[1] >= 0 && dup2(fd, g_workers[i].fds[1]) < 0)
			w->t.sys_bad++;
	close(fd);
	__atomic_add_fetch(&g_dev1_gen, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&g_dev1_lock);
	/* What was on device 1 was evicted to RAM: it reads back intact. */
	if (len)
		check_range(w, s, off / PG, len / PG);
	return 1;
}

/* ---- The dmirror interface (test_hmm's ioctls) -------------------------- */

/* dm_fd()'s answer while device 1 is being removed, or is gone for good. */
#define DM_GONE		(-2)

/*
 * This thread's file of device @dev's dmirror node (the device address
 * space of this process), opened at first use and again after a removal
 * of device 1 re-created it; DM_GONE while device 1 is being removed
 * (the caller uses device 0 then), -1 if the node cannot be opened.
 */
static int dm_fd(struct worker *w, int dev)
{
	char path[40];
	unsigned int gen;

	if (!dev) {
		if (w->dm[0] < 0)
			w->dm[0] = open("/dev/vramsim_dmirror0", O_RDWR | O_CLOEXEC);
		return w->dm[0];
	}
	pthread_mutex_lock(&g_dev1_lock);
	gen = dev1_gen();
	if (gen & 1) {
		pthread_mutex_unlock(&g_dev1_lock);
		return DM_GONE;
	}
	if (w->dm[1] >= 0 && w->dm_gen != gen) {
		close(w->dm[1]);
		w->dm[1] = -1;
	}
	if (w->dm[1] < 0) {
		snprintf(path, sizeof(path), "/dev/vramsim_dmirror%d", dev);
		w->dm[1] = open(path, O_RDWR | O_CLOEXEC);
		w->dm_gen = gen;
	}
	pthread_mutex_unlock(&g_dev1_lock);
	return w->dm[1];
}

/* The first byte of @buf that is not what the model says @a holds, or -1. */
static long model_diff(struct worker *w, unsigned int s, const char *a, size_t len,
		       const void *buf)
{
	const char *slot = slot_addr(w, s);
	size_t p, i;

	for (p = 0; p < len / PG; p++) {
		unsigned char k = P_KIND(w->pst[(a - w->base) / PG + p]);
		const __u64 *wd = (const __u64 *)((const char *)buf + p * PG);
		size_t word0 = (a - slot) / 8 + p * PG / 8;

		if (k != P_DATA && k != P_ZERO)
			continue;
		for (i = 0; i < PG / 8; i++)
			if (wd[i] != (k == P_DATA ? ((word0 + i) * 8) ^ w->salt[s] : 0))
				return p * PG + i * 8;
	}
	return -1;
}

/* Does [a, a + len) hold only pages whose contents the model knows? */
static bool range_known(struct worker *w, const char *a, size_t len)
{
	size_t i, p = (a - w->base) / PG;

	for (i = 0; i < len / PG; i++)
		if (P_KIND(w->pst[p + i]) != P_DATA && P_KIND(w->pst[p + i]) != P_ZERO)
			return false;
	return true;
}

#define DM_NR		10	/* READ .. READ_UNLOCKED */

/* SNAPSHOT's bytes for readable private anonymous memory: nothing else. */
static void snapshot_ok(struct worker *w, const char *a, __u64 npages)
{
	const unsigned char any = HMM_DMIRROR_PROT_WRITE | HMM_DMIRROR_PROT_READ |
				  HMM_DMIRROR_PROT_PMD | HMM_DMIRROR_PROT_ZERO |
				  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL;
	__u64 i;

	for (i = 0; i < npages; i++)
		if (w->dmbuf[i] & ~any) {
			char line[256] = "", *p = (char *)a + i * PG;
			FILE *f = fopen("/proc/self/maps", "r");

			while (f && fgets(line, sizeof(line), f)) {
				unsigned long lo, hi;

				if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
				    (uintptr_t)p >= lo && (uintptr_t)p < hi)
					break;
				line[0] = '\0';
			}
			if (f)
				fclose(f);
			w->t.data_bad++;
			note(w, PR_DATA, "SNAPSHOT: page %llu of %p is %#x, kind %d; maps: %s",
			     (unsigned long long)i, a, w->dmbuf[i],
			     p < w->base + MODEL_LEN ? P_KIND(w->pst[(p - w->base) / PG]) : -1,
			     line[0] ? line : "(nothing)\n");
			return;
		}
}

static const char * const dm_names[DM_NR] = {
	"READ", "WRITE", "MIGRATE_TO_DEV", "MIGRATE_TO_SYS", "SNAPSHOT", "EXCLUSIVE",
	"CHECK_EXCLUSIVE", "RELEASE", "FLAGS", "READ_UNLOCKED",
};

/* A set of errnos as a mask (EOPNOTSUPP, 95, is bit 63; 0 is success). */
static __u64 EB(int e)
{
	return e == EOPNOTSUPP ? 1ULL << 63 : e < 63 ? 1ULL << e : 0;
}

/*
 * One dmirror ioctl with its argument (struct hmm_dmirror_cmd) in place, a
 * random command on a range of a slot, most of them valid; the errno must
 * be one @ok allows, and on failure the structure must be as it was.
 */
static int dm_call(struct worker *w, int fd, int dev, unsigned int cmd, struct hmm_dmirror_cmd *c,
		   __u64 ok, const char *what)
{
	struct hmm_dmirror_cmd *arg = (struct hmm_dmirror_cmd *)args_addr(w, AP_BUF);
	/* device 1's file is as old as the generation it was opened at */
	unsigned int gen0 = dev ? w->dm_gen : dev1_gen();
	int err;

	*arg = *c;
	err = ioctl(fd, cmd, arg) ? errno : 0;
	count_call(w, C_DMIRROR, err);
	w->t.calls_dev[dev]++;
	if (err == ENODEV && dev1_gone(dev, gen0)) {
		w->t.enodev++;
		return err;
	}
	if (!(ok & EB(err))) {
		w->t.errno_bad++;
		note(w, PR_ERRNO,
		     "DMIRROR %s %s on device %d: addr %#llx npages %#llx ptr %#llx -> %s",
		     _IOC_NR(cmd) < DM_NR ? dm_names[_IOC_NR(cmd)] : "(unknown)", what, dev,
		     (unsigned long long)c->addr, (unsigned long long)c->npages,
		     (unsigned long long)c->ptr, ename(err));
	} else if (err && memcmp(arg, c, sizeof(*c))) {
		w->t.struct_bad++;
		note(w, PR_STRUCT, "DMIRROR %s: failed with %s but wrote the structure back",
		     what, ename(err));
	} else if (!err && cmd != HMM_DMIRROR_FLAGS && cmd != HMM_DMIRROR_MIGRATE_TO_SYS &&
		   cmd != HMM_DMIRROR_CHECK_EXCLUSIVE && cmd != HMM_DMIRROR_RELEASE &&
		   arg->cpages != c->npages) {
		w->t.struct_bad++;
		note(w, PR_STRUCT, "DMIRROR %s: cpages %llu of %llu", what,
		     (unsigned long long)arg->cpages, (unsigned long long)c->npages);
	}
	*c = *arg;
	return err;
}

/*
 * A device write whose effect is seen: the words of [a, a + len), which
 * w->dmbuf holds as the model says, written inverted through the device;
 * if that worked the CPU must read them inverted, and then writes them
 * back itself.  A write that failed (a read-only page: EPERM; or EBUSY,
 * ENOMEM part of the way) is undone by writing the original through the
 * device; if that fails too, the range is forgotten by the model (P_ANON).
 * Returns the calls made.
 */
static int dm_write_inverted(struct worker *w, int fd, int dev, unsigned int s, char *a,
			     size_t len)
{
	struct hmm_dmirror_cmd c = { .addr = (uintptr_t)a, .npages = len / PG,
				     .ptr = (uintptr_t)w->dmbuf, .cpages = rnd(w) };
	const __u64 ok = EB(0) | EB(EPERM) | EB(EBUSY) | EB(ENOMEM);
	__u64 *wd = (__u64 *)w->dmbuf;
	size_t i;
	int err;

	for (i = 0; i < len / 8; i++)
		wd[i] = ~wd[i];
	err = dm_call(w, fd, dev, HMM_DMIRROR_WRITE, &c, ok, "inverted write");
	if (!err) {
		if (memcmp(a, w->dmbuf, len)) {
			for (i = 0; i < len / 8 && ((__u64 *)a)[i] == wd[i]; i++)
				;
			w->t.data_bad++;
			note(w, PR_DATA,
			     "DATA: dmirror WRITE of %p on device %d returned 0, but the CPU reads word %zu as %#llx, not %#llx",
			     a, dev, i, (unsigned long long)((__u64 *)a)[i],
			     (unsigned long long)wd[i]);
		}
		for (i = 0; i < len / 8; i++)
			wd[i] = ~wd[i];
		memcpy(a, w->dmbuf, len);
		return 1;
	}
	for (i = 0; i < len / 8; i++)
		wd[i] = ~wd[i];
	c.cpages = rnd(w);
	c.faults = 0;
	c.addr = (uintptr_t)a;
	c.npages = len / PG;
	c.ptr = (uintptr_t)w->dmbuf;
	err = dm_call(w, fd, dev, HMM_DMIRROR_WRITE, &c, ok, "write back");
	/* EPERM stops at the same page both times; anything else forgets */
	if (err && err != EPERM)
		set_pages(w->pst, w, a, len, P_ANON);
	return 2;
}

/*
 * A device read that is not what the model says: what the word is, where
 * such a word is at home, what the CPU reads there now, what SNAPSHOT says
 * of the page and what a second READ reads.
 */
static void dm_explain(struct worker *w, int fd, unsigned int s, unsigned int nr, char *a,
		       int dev, long bad)
{
	__u64 got = *(__u64 *)(w->dmbuf + bad), cpu, again = 0;
	char *page = a + (bad & ~(PG - 1));
	struct hmm_dmirror_cmd c = { .addr = (uintptr_t)page, .npages = 1,
				     .ptr = (uintptr_t)w->dmbuf };
	int snap = -1, err2, i;
	char home[64] = "nowhere";

	for (i = 0; i < NSLOTS; i++)
		if (((got ^ w->salt[i]) & 7) == 0 && (got ^ w->salt[i]) < SLOT_MAX)
			snprintf(home, sizeof(home), "slot %d byte %#llx", i,
				 (unsigned long long)(got ^ w->salt[i]));
	/* SNAPSHOT first: the CPU's read brings the page home */
	if (!ioctl(fd, HMM_DMIRROR_SNAPSHOT, &c))
		snap = w->dmbuf[0];
	cpu = __atomic_load_n((__u64 *)(a + bad), __ATOMIC_RELAXED);
	c.npages = 1;
	err2 = ioctl(fd, HMM_DMIRROR_READ, &c) ? errno : 0;
	if (!err2)
		again = *(__u64 *)(w->dmbuf + (bad & (PG - 1)));
	note(w, PR_DATA,
	     "DATA: dmirror %s of %p on device %d, byte %ld (slot %u byte %#lx, %s): %#llx (at home in %s); the CPU reads %#llx, SNAPSHOT %#x, READ again %s %#llx",
	     nr == 1 ? "READ (before a WRITE)" : dm_names[nr], a, dev, bad, s,
	     (long)(a + bad - slot_addr(w, s)),
	     P_KIND(w->pst[(a + bad - w->base) / PG]) == P_DATA ? "data" : "zero",
	     (unsigned long long)got, home, (unsigned long long)cpu, snap, ename(err2),
	     (unsigned long long)again);
}

/*
 * The dmirror interface: test_hmm's ioctls on a slot's pages, checked
 * against docs/uapi.md; device reads compared with what the pages hold,
 * device writes of what they hold, and the slot read back after.
 */
static int op_dmirror(struct worker *w)
{
	static const unsigned long bad_ptrs[] = {
		0, 0xffff888000000000UL, 0x8000000000000000UL,
	};
	unsigned int s = below(w, NSLOTS), nr = below(w, DM_NR), cmd, r = below(w, 1000);
	const __u64 any = EB(0) | EB(EINVAL) | EB(EFAULT) | EB(EPERM) | EB(EBUSY) |
			  EB(ENOENT) | EB(ENOMEM) | EB(EOPNOTSUPP);
	struct hmm_dmirror_cmd c = { .cpages = rnd(w), .faults = rnd(w) };
	int dev = g_ndev > 1 ? (int)below(w, g_ndev) : 0, fd, err, n = 1, i;
	size_t off, len = anon_run(w, s, &off);
	char *a;
	bool known, bad_ptr = false;
	__u64 ok;
	long bad;

	static const unsigned int cmds[DM_NR] = {
		HMM_DMIRROR_READ, HMM_DMIRROR_WRITE, HMM_DMIRROR_MIGRATE_TO_DEV,
		HMM_DMIRROR_MIGRATE_TO_SYS, HMM_DMIRROR_SNAPSHOT, HMM_DMIRROR_EXCLUSIVE,
		HMM_DMIRROR_CHECK_EXCLUSIVE, HMM_DMIRROR_RELEASE, HMM_DMIRROR_FLAGS,
		HMM_DMIRROR_READ_UNLOCKED,
	};

	/* Mostly private anonymous memory: a slot that has some. */
	for (i = 0; i < 3 && !len; i++) {
		s = below(w, NSLOTS);
		len = anon_run(w, s, &off);
	}
	a = slot_addr(w, s) + off;
	fd = dm_fd(w, dev);
	if (fd == DM_GONE) {
		dev = 0;
		fd = dm_fd(w, 0);
	}
	if (fd < 0) {
		note(w, PR_OTHER, "cannot open /dev/vramsim_dmirror%d: %s", dev, strerror(errno));
		w->t.sys_bad++;
		count_call(w, C_DMIRROR, errno < NERR - 1 ? errno : 0);
		return 1;
	}
	cmd = cmds[nr];
	/* RELEASE evicts every process's pages of the device: now and then. */
	if (nr == 7 && pm(w, 900))
		cmd = cmds[nr = 4];

	/* Bad input: each with the errno the checks give, in their order. */
	if (r < 150) {
		c.addr = (uintptr_t)a;
		c.npages = 1 + below(w, 8);
		c.ptr = (uintptr_t)w->dmbuf;
		if (r < 30) {
			/* an unknown command, or a known one with its size or direction changed */
			if (pm(w, 500))
				cmd = _IOWR('H', DM_NR + below(w, 256 - DM_NR),
					    struct hmm_dmirror_cmd);
			else
				cmd = mutate_cmd(w, cmd, 1000);
			ok = cmd == cmds[nr] ? any : EB(EINVAL);
			if (cmd == HMM_DMIRROR_FLAGS)
				ok = EB(0) | EB(EINVAL);
			if (cmd == cmds[nr])
				return dm_call(w, fd, dev, cmd, &c, ok, "mutated to itself"), 1;
			dm_call(w, fd, dev, cmd, &c, ok, "unknown command");
		} else if (r < 60) {
			struct hmm_dmirror_cmd *arg;
			unsigned int gen0 = dev ? w->dm_gen : dev1_gen();

			arg = (struct hmm_dmirror_cmd *)bad_ptrs[below(w, 3)];

			err = ioctl(fd, cmd, arg) ? errno : 0;
			count_call(w, C_DMIRROR, err);
			if (err != EFAULT && !(err == ENODEV && dev1_gone(dev, gen0))) {
				w->t.errno_bad++;
				note(w, PR_ERRNO, "DMIRROR %s, argument at %p: %s, expected EFAULT",
				     dm_names[nr], arg, ename(err));
			}
		} else if (cmd == HMM_DMIRROR_FLAGS) {
			c.npages = 2ULL << below(w, 63);
			dm_call(w, fd, dev, cmd, &c, EB(EINVAL), "unknown flag");
		} else {
			switch (below(w, 4)) {
			case 0:
				c.addr += 1 + below(w, PG - 1);
				break;
			case 1:
				c.npages = 0;
				break;
			case 2:
				/* one page past TASK_SIZE, or wrapping */
				if (pm(w, 500))
					c.npages = ((g_task_size - c.addr) >> 12) + 1 + below(w, 4);
				else
					c.npages = ~0ULL >> below(w, 12);
				break;
			default:
				c.addr = pm(w, 800) ? g_task_size + below(w, 4) * PG : 1ULL << 63;
				break;
			}
			dm_call(w, fd, dev, cmd, &c, EB(EINVAL), "bad range");
		}
		return 1;
	}

	/* A command too large for a kernel buffer: ENOMEM, quietly. */
	if (r < 170 && (nr == 0 || nr == 1 || nr == 2 || nr == 4 || nr == 5 || nr == 9)) {
		c.addr = (uintptr_t)a;
		c.npages = (g_task_size - c.addr) >> 12;
		c.ptr = (uintptr_t)w->dmbuf;
		dm_call(w, fd, dev, cmd, &c, EB(ENOMEM), "the whole address space");
		return 1;
	}

	/* SNAPSHOT of a long stretch of the 1 TiB region: a long walk, nothing faulted. */
	if (r < 200 && nr == 4) {
		c.addr = (uintptr_t)w->huge + below(w, HUGE_LEN / SZ_2M - 512) * SZ_2M;
		c.npages = 1 + below(w, DMBUF_LEN);
		c.ptr = (uintptr_t)w->dmbuf;
		/*
		 * The file's notifier covers the whole address space: the
		 * other threads' invalidations may keep it busy for a second.
		 */
		if (!dm_call(w, fd, dev, cmd, &c, EB(0) | EB(EBUSY), "1 TiB region"))
			snapshot_ok(w, (char *)(uintptr_t)c.addr, c.npages);
		return 1;
	}

	/* A range: an anonymous run of the slot, or any part of it. */
	if (!len || pm(w, 150)) {
		slot_subrange(w, &off, &len);
		a = slot_addr(w, s) + off;
	} else if (pm(w, 900)) {
		len = umin(len, some_pages(w, 64) * PG);
	}
	len = umin(len, (size_t)DMBUF_LEN * PG);
	known = range_known(w, a, len);
	c.addr = (uintptr_t)a;
	c.npages = len / PG;
	c.ptr = (uintptr_t)w->dmbuf;
	if (pm(w, 40) && nr != 1 && nr != 3 && nr != 6 && nr != 7 && nr != 8) {
		c.ptr = bad_ptrs[below(w, 3)];
		bad_ptr = true;
	}

	switch (cmd) {
	case HMM_DMIRROR_READ:
	case HMM_DMIRROR_READ_UNLOCKED:
		ok = known ? EB(0) : EB(0) | EB(EFAULT);
		break;
	case HMM_DMIRROR_WRITE:
		/*
		 * What the pages hold, read by the device first, is what it
		 * writes: the memory of any kind keeps its contents.
		 */
		c.cpages = 0;
		err = dm_call(w, fd, dev, HMM_DMIRROR_READ, &c,
			      EB(0) | EB(EBUSY) | EB(ENOMEM) | (known ? 0 : EB(EFAULT)),
			      "read before a write");
		n++;
		if (err)
			goto check;
		bad = known ? model_diff(w, s, a, len, w->dmbuf) : -1;
		if (bad >= 0)
			goto data_bad;
		if (known) {
			n += dm_write_inverted(w, fd, dev, s, a, len);
			/* a write that went elsewhere in the slot shows there */
			check_range(w, s, 0, SLOT_PAGES);
			return n;
		}
		c.cpages = rnd(w);
		/* the pages may be read-only, or file pages that changed meanwhile: no */
		ok = EB(0) | EB(EPERM) | (known ? 0 : EB(EFAULT));
		break;
	case HMM_DMIRROR_MIGRATE_TO_DEV:
		ok = known ? EB(0) | EB(ENOENT) : any;
		break;
	case HMM_DMIRROR_MIGRATE_TO_SYS:
		ok = known ? EB(0) | EB(ENOMEM) : any;
		break;
	case HMM_DMIRROR_SNAPSHOT:
		ok = known ? EB(0) : EB(0) | EB(EFAULT);
		break;
	case HMM_DMIRROR_EXCLUSIVE:
		ok = known ? EB(0) | EB(EBUSY) | EB(EFAULT) | EB(EOPNOTSUPP) : any;
		break;
	case HMM_DMIRROR_CHECK_EXCLUSIVE:
		ok = EB(0) | EB(EPERM);
		break;
	case HMM_DMIRROR_RELEASE:
		ok = EB(0);
		break;
	default:	/* FLAGS: FAIL_ALLOC armed (the next migration's allocation fails) or not */
		c.npages = pm(w, 500);
		ok = EB(0);
		break;
	}
	/* Reads and writes may race a full VRAM's evictions for a second (TCG). */
	if (cmd != HMM_DMIRROR_RELEASE && cmd != HMM_DMIRROR_FLAGS)
		ok |= EB(ENOMEM) | EB(EBUSY);
	if (bad_ptr && (ok & EB(0)))
		ok = (ok & ~EB(0)) | EB(EFAULT);
	err = dm_call(w, fd, dev, cmd, &c, ok, bad_ptr ? "bad ptr" : "a slot's range");
	if (err || !known || bad_ptr)
		goto check;
	/* What the device read is what the pages hold. */
	if (cmd == HMM_DMIRROR_READ || cmd == HMM_DMIRROR_READ_UNLOCKED ||
	    cmd == HMM_DMIRROR_MIGRATE_TO_DEV || cmd == HMM_DMIRROR_EXCLUSIVE) {
		bad = model_diff(w, s, a, len, w->dmbuf);
		if (bad >= 0)
			goto data_bad;
	}
	if (cmd == HMM_DMIRROR_SNAPSHOT)
		snapshot_ok(w, a, c.npages);
	goto check;

data_bad:
	w->t.data_bad++;
	dm_explain(w, fd, s, nr, a, dev, bad & ~7L);
check:
	/* Whatever it did, the pages hold what they held. */
	check_range(w, s, (a - slot_addr(w, s)) / PG, len / PG);
	return n;
}

/* ---- Threads ------------------------------------------------------------- */

static bool worker_setup(struct worker *w)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
	char *a;
	void *p;
	unsigned int s;

	w->base = (char *)(ARENA_BASE + w->idx * ARENA_STRIDE);
	w->huge = w->base + HUGE_OFF;
	/* Nothing may be there: reserve it all once, then give it back. */
	p = mmap(w->base, ARENA_STRIDE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != w->base) {
		ksft_print_msg("t%d: arena at %p not free: %s\n", w->idx, w->base, strerror(errno));
		return false;
	}
	munmap(w->base, ARENA_STRIDE);

	w->fds[0] = vramsim_open_render_node();
	if (g_ndev > 1) {
		pthread_mutex_lock(&g_dev1_lock);
		w->fds[1] = vramsim_open_device(1);
		pthread_mutex_unlock(&g_dev1_lock);
	}
	w->dm[0] = -1;
	w->dm[1] = -1;
	w->dmbuf = mmap(NULL, DMBUF_LEN * PG, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->dmbuf == MAP_FAILED)
		return false;
	w->memfd = memfd_create("vramsim_fuzz", MFD_CLOEXEC);
	if (w->fds[0] < 0 || (g_ndev > 1 && w->fds[1] < 0) || w->memfd < 0 ||
	    ftruncate(w->memfd, MEMFD_LEN))
		return false;
	w->ro_rw = mmap(NULL, ARGBUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, w->memfd,
			MEMFD_RO_OFF);
	w->cres = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w->ro_rw == MAP_FAILED || w->cres == MAP_FAILED)
		return false;

	memset(w->pst, P_HOLE, sizeof(w->pst));
	a = args_addr(w, 0);
	if (!map_fixed(w, a + AP_BUF * PG, ARGBUF_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    !map_fixed(w, a + AP_EDGE * PG, PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    !map_fixed(w, a + AP_NONE * PG, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ||
	    !map_fixed(w, a + AP_RO * PG, ARGBUF_LEN, PROT_READ, MAP_SHARED, w->memfd,
		       MEMFD_RO_OFF) ||
	    !map_fixed(w, w->huge, HUGE_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0))
		return false;
	set_pages(w->pst, w, a + AP_BUF * PG, ARGBUF_LEN, P_ANON);
	set_pages(w->pst, w, a + AP_EDGE * PG, 2 * PG, P_ANON);
	set_pages(w->pst, w, a + AP_RO * PG, ARGBUF_LEN, P_FILE);
	/* Half of it may have device THPs, half not. */
	madvise(w->huge, HUGE_LEN / 2, MADV_HUGEPAGE);
	for (s = 0; s < NSLOTS; s++)
		reroll(w, s);

	sev.sigev_notify_thread_id = gettid();
	w->timer_ok = !timer_create(CLOCK_MONOTONIC, &sev, &w->timer);
	if (!sem_init(&w->go, 0, 0) && !sem_init(&w->done, 0, 0))
		w->helper_ok = !pthread_create(&w->helper, NULL, helper_main, w);
	return w->timer_ok && w->helper_ok;
}

static void worker_teardown(struct worker *w)
{
	unsigned int s;

	for (s = 0; s < NSLOTS; s++)
		check_range(w, s, 0, SLOT_PAGES);
	if (munmap(w->base, MODEL_LEN) || munmap(w->huge, HUGE_LEN))
		w->t.sys_bad++;
	if (w->helper_ok) {
		w->quit = true;
		sem_post(&w->go);
		pthread_join(w->helper, NULL);
	}
	if (w->timer_ok)
		timer_delete(w->timer);
	munmap(w->ro_rw, ARGBUF_LEN);
	munmap(w->dmbuf, DMBUF_LEN * PG);
	close(w->memfd);
	close(w->fds[0]);
	if (w->dm[0] >= 0)
		close(w->dm[0]);
	if (g_ndev > 1) {
		pthread_mutex_lock(&g_dev1_lock);
		close(w->fds[1]);
		w->fds[1] = -1;
		if (w->dm[1] >= 0)
			close(w->dm[1]);
		w->dm[1] = -1;
		pthread_mutex_unlock(&g_dev1_lock);
	}
}

static int op_arena(struct worker *w)
{
	return op_migrate(w, WHERE_ARENA);
}

static int op_huge(struct worker *w)
{
	return op_migrate(w, WHERE_HUGE);
}

static int op_wild(struct worker *w)
{
	return op_migrate(w, WHERE_WILD);
}

/* What a thread does, how often (in 1/10000), and what it costs. */
static const struct op {
	const char *name;
	unsigned int weight;
	int (*fn)(struct worker *w);
} ops[NOPS] = {
	{ "roundtrip", 400, op_roundtrip },	/* valid migrations, data checked */
	{ "arena", 1800, op_arena },		/* fuzzed migrate in the arena */
	{ "huge", 400, op_huge },		/* ... in the 1 TiB region */
	{ "wild", 1500, op_wild },		/* ... anywhere, mostly invalid */
	{ "query", 1400, op_query },
	{ "drvnr", 1600, op_drv_unknown },	/* driver numbers past the table */
	{ "core", 1500, op_core },		/* core DRM numbers */
	{ "type", 400, op_foreign },		/* other ioctl types */
	{ "race", 60, op_race },		/* migrate vs munmap */
	{ "signal", 5, op_signal },
	{ "kill", 5, op_kill },
	{ "unplug", 5, op_unplug },		/* device 1 removed, re-created */
	{ "dmirror", 1000, op_dmirror },	/* test_hmm's ioctls, data checked */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int r, i, total = 0;
	__u64 t;

	if (!worker_setup(w)) {
		ksft_print_msg("t%d: setup failed\n", w->idx);
		w->t.sys_bad++;
		return NULL;
	}
	for (i = 0; i < NOPS; i++)
		total += ops[i].weight;
	while (w->n < w->ncalls) {
		bool maint = pm(w, 20);

		r = below(w, total);
		for (i = 0; r >= ops[i].weight; i++)
			r -= ops[i].weight;
		if (g_only >= 0 && (unsigned int)g_only != i)
			continue;
		if (maint) {
			t = now_us();
			maintenance(w);
			w->t.op_us[NOPS] += now_us() - t;
			w->t.op_n[NOPS]++;
		}
		if (g_verbose)
			note(w, PR_TRACE, "%s", ops[i].name);
		t = now_us();
		ops[i].fn(w);
		w->t.op_us[i] += now_us() - t;
		w->t.op_n[i]++;
	}
	worker_teardown(w);
	return NULL;
}

/* ---- Setup -------------------------------------------------------------- */

/* TASK_SIZE is 2^47 or 2^56 minus a page, as the CPU and kernel decided. */
static __u64 probe_task_size(void)
{
	__u64 big = (1ULL << 56) - 2 * PG;
	void *p = mmap((void *)(uintptr_t)big, PG, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return (1ULL << 47) - PG;
	munmap(p, PG);
	return (1ULL << 56) - PG;
}

static void add_wild(__u64 start, __u64 end, int kind)
{
	if (g_nwild < (int)ARRAY_SIZE(g_wild) && start < end)
		g_wild[g_nwild++] = (struct region){ start, end, kind };
}

static void add_start(__u64 s)
{
	if (g_nwild_starts < (int)ARRAY_SIZE(g_wild_starts))
		g_wild_starts[g_nwild_starts++] = s;
}

/*
 * Regions of the address space whose nature is known for the whole run:
 * below everything, above everything, and file or special mappings (the
 * program, its libraries, the vDSO).  Wild starts come from these.
 */
static void scan_maps(void)
{
	char line[512], path[256];
	__u64 lo = ~0ULL, hi = 0, s, e;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		path[0] = '\0';
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %255s", &s, &e, path) < 2)
			continue;
		lo = umin(lo, s);
		if (e <= g_task_size)
			hi = umax(hi, e);
		if (path[0] == '/' || !strcmp(path, "[vdso]") || !strncmp(path, "[vvar", 5)) {
			add_wild(s, e, P_FILE);
			add_start(s);
			if (!g_text && path[0] == '/' && strstr(line, " r-xp "))
				g_text = s;
		}
	}
	fclose(f);
	lo = umin(lo, ARENA_BASE);
	add_wild(0, lo, P_HOLE);
	add_wild(hi, g_task_size, P_HOLE);
	add_start(0);
	add_start(PG);
	add_start(lo - PG);
	add_start(hi);
	add_start(g_task_size - PG);
	add_start(g_task_size - 2 * PG);
	add_start(g_task_size);
	add_start(g_task_size + PG);
	add_start(1ULL << 47);
	add_start((1ULL << 47) - PG);
	add_start(1ULL << 63);
	add_start(0xffff888000000000ULL);
	add_start(0xffffffff81000000ULL);
	add_start(~0ULL & ~(PG - 1));
}

/*
 * MIGRATE_TO_RAM of never-touched memory must not populate it; a driver that
 * does would fill the guest's RAM in the 1 TiB walks, which are then skipped.
 */
static bool probe_ram_walk(void)
{
	unsigned char vec[512];
	void *p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u64 moved = ~0ULL, t0;
	int ret, i, res = 0;

	if (p == MAP_FAILED)
		return false;
	ret = vs_migrate(g_fd, VRAMSIM_TO_RAM, p, SZ_2M, &moved);
	if (!mincore(p, SZ_2M, vec))
		for (i = 0; i < 512; i++)
			res += vec[i] & 1;
	munmap(p, SZ_2M);
	ksft_print_msg("probe: TO_RAM of 2 MiB untouched: %d, moved %llu, %d pages resident\n",
		       ret, (unsigned long long)moved, res);
	if (ret || moved || res)
		return false;

	p = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return true;
	t0 = now_us();
	ret = vs_migrate(g_fd, VRAMSIM_TO_RAM, p, SZ_1G, &moved);
	ksft_print_msg("probe: MIGRATE_TO_RAM walk of 1 GiB untouched: %d in %llu ms\n", ret,
		       (unsigned long long)(now_us() - t0) / 1000);
	munmap(p, SZ_1G);
	return true;
}

/* Device @d's state at the end (counters since it was last created). */
static void print_device(int d, const struct vramsim_stats *st, unsigned long calls)
{
	ksft_print_msg("device %d (%u): free %llu of %llu, pending %llu, live %llu, splits %llu\n",
		       d, st->device, (unsigned long long)st->vram_free,
		       (unsigned long long)st->vram_size, (unsigned long long)st->pending_frees,
		       (unsigned long long)live_folios(st), (unsigned long long)st->splits);
	ksft_print_msg("device %d: allocs order 0 %llu, order 9 %llu; peer_bytes %llu\n", d,
		       (unsigned long long)st->allocs[0], (unsigned long long)st->allocs[9],
		       (unsigned long long)st->peer_bytes);
	ksft_print_msg("device %d: evictions %llu (%llu bytes), %lu calls\n", d,
		       (unsigned long long)st->evictions, (unsigned long long)st->evicted_bytes,
		       calls);
}

static void help(const char *prog)
{
	int i;

	fprintf(stderr,
		"Usage: %s [--seed N] [--threads 1..%d] [--calls N] [--verbose] [--only OP]\n"
		"OP, to make only one kind of calls:",
		prog, MAX_THREADS);
	for (i = 0; i < NOPS; i++)
		fprintf(stderr, " %s", ops[i].name);
	fputc('\n', stderr);
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "calls", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static struct worker workers[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_timer };	/* no SA_RESTART */
	unsigned long calls = 100000, done = 0;
	unsigned long long seed = 0;
	bool seeded = false, crashed = false;
	struct vramsim_stats st, sts[MAX_DEVS] = { 0 };
	struct tally t = { 0 };
	int nthreads = 4, i, j, e, d, opt;
	char num[16];
	__u64 t0, us;
	bool whole;

	while ((opt = getopt_long(argc, argv, "s:t:c:vo:", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'c':
			calls = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			g_verbose = true;
			break;
		case 'o':
			for (i = 0; i < NOPS && strcmp(optarg, ops[i].name); i++)
				;
			if (i == NOPS)
				help(argv[0]);
			g_only = i;
			break;
		default:
			help(argv[0]);
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS || !calls)
		help(argv[0]);
	if (!seeded)
		seed = now_us() ^ ((unsigned long long)getpid() << 32);

	ksft_print_header();
	g_fd = vramsim_open_render_node();
	if (g_fd < 0)
		ksft_exit_skip("no vramsim render node (modprobe vramsim)\n");
	e = -vs_stats(g_fd, &st);
	if (e)
		ksft_exit_fail_msg("vramsim's debugfs stats: %s\n", strerror(e));
	g_fds[0] = g_fd;
	g_vram_sizes[0] = st.vram_size;
	g_prepare = st.prepare;
	g_fds[1] = vramsim_open_device(1);
	if (g_fds[1] >= 0 && !vs_stats(g_fds[1], &st)) {
		g_ndev = 2;
		g_vram_sizes[1] = st.vram_size;
	} else if (g_fds[1] >= 0) {
		close(g_fds[1]);
		g_fds[1] = -1;
	}
	g_vram_max = umax(g_vram_sizes[0], g_vram_sizes[1]);
	if (g_ndev > 1 && !read_param("num_devices", num, sizeof(num))) {
		g_num_devices = atoi(num);
		g_unplug_ok = g_num_devices >= 2 &&
			      !access("/sys/module/vramsim/parameters/num_devices", W_OK);
	}
	g_task_size = probe_task_size();
	scan_maps();
	ksft_print_msg("seed %llu (replay: --seed %llu --threads %d --calls %lu)\n", seed, seed,
		       nthreads, calls);
	for (d = 0; d < g_ndev; d++)
		ksft_print_msg("device %d: vram %llu MiB, prepare=%s, TASK_SIZE %#llx\n", d,
			       (unsigned long long)g_vram_sizes[d] >> 20,
			       vramsim_prepare_name(g_prepare), (unsigned long long)g_task_size);
	if (g_ndev == 1)
		ksft_print_msg("%s\n",
			       "one device: no vramsim device 1 (modprobe vramsim num_devices=2 for two), every call on device 0");
	else if (g_unplug_ok)
		ksft_print_msg("%s (num_devices %d -> 1 -> %d)\n",
			       "two devices: each call on one of them at random; device 1 removed and re-created now and then",
			       g_num_devices, g_num_devices);
	else
		ksft_print_msg("%s\n",
			       "two devices: each call on one of them at random; num_devices not writable, device 1 never removed");
	ksft_set_plan(6);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	g_ram_walk_ok = probe_ram_walk();
	if (!g_ram_walk_ok) {
		t.populated_bad++;
		ksft_print_msg("TO_RAM populated untouched memory: long TO_RAM walks skipped\n");
	}

	g_calls = calls;
	t0 = now_us();
	g_t0 = t0;
	/* Before any thread runs: op_unplug() dup2()s over the fds of all. */
	for (i = 0; i < nthreads; i++) {
		workers[i].fds[0] = -1;
		workers[i].fds[1] = -1;
		workers[i].force_dev = -1;
	}
	g_workers = workers;
	g_nworkers = nthreads;
	for (i = 0; i < nthreads; i++) {
		struct worker *w = &workers[i];
		__u64 z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;

		w->idx = i;
		w->rng = z ^ (z >> 29);
		w->ncalls = calls / nthreads + (i < (int)(calls % nthreads));
		if (pthread_create(&w->thread, NULL, worker_main, w))
			ksft_exit_fail_msg("pthread_create\n");
	}
	for (i = 0; i < nthreads; i++) {
		struct worker *w = &workers[i];

		pthread_join(w->thread, NULL);
		done += w->n;
		crashed |= w->n < w->ncalls;
		for (j = 0; j < NCLASS; j++) {
			t.calls[j] += w->t.calls[j];
			for (e = 0; e < NERR; e++)
				t.hist[j][e] += w->t.hist[j][e];
		}
		t.errno_bad += w->t.errno_bad;
		t.struct_bad += w->t.struct_bad;
		t.data_bad += w->t.data_bad;
		t.populated_bad += w->t.populated_bad;
		t.sys_bad += w->t.sys_bad;
		t.hang_bad += w->t.hang_bad;
		t.unchecked += w->t.unchecked;
		t.roundtrips += w->t.roundtrips;
		t.races += w->t.races;
		t.signal_calls += w->t.signal_calls;
		t.signals += w->t.signals;
		t.eintr += w->t.eintr;
		t.kills += w->t.kills;
		t.kills_mid += w->t.kills_mid;
		t.kill_lat_max_us = umax(t.kill_lat_max_us, w->t.kill_lat_max_us);
		t.maint += w->t.maint;
		for (d = 0; d < MAX_DEVS; d++)
			t.calls_dev[d] += w->t.calls_dev[d];
		t.enodev += w->t.enodev;
		t.unplugs += w->t.unplugs;
		t.unplug_enodev_bad += w->t.unplug_enodev_bad;
		t.unplug_folios += w->t.unplug_folios;
		t.unplug_bytes += w->t.unplug_bytes;
		t.unplug_us[0] += w->t.unplug_us[0];
		t.unplug_us[1] += w->t.unplug_us[1];
		for (j = 0; j <= NOPS; j++) {
			t.op_n[j] += w->t.op_n[j];
			t.op_us[j] += w->t.op_us[j];
		}
		t.checks += w->t.checks;
	}
	us = now_us() - t0;

	/* Every device idle and whole: nothing live, nothing pending. */
	whole = true;
	for (d = 0; d < g_ndev; d++)
		whole &= wait_vram_idle(g_fds[d], &sts[d]) &&
			 sts[d].vram_free == sts[d].vram_size && sts[d].device == (__u32)d;

	ksft_print_msg("%lu calls in %.1f s: %.0f calls/s, %d threads\n", done, us / 1e6,
		       done / (us / 1e6), nthreads);
	for (j = 0; j < NCLASS; j++) {
		char buf[512];
		int len = 0;

		for (e = 0; e < NERR; e++)
			if (t.hist[j][e])
				len += snprintf(buf + len, sizeof(buf) - len, " %s:%lu", ename(e),
						t.hist[j][e]);
		buf[len] = '\0';
		ksft_print_msg("%-32s %7lu  %s\n", class_names[j], t.calls[j], buf);
	}
	for (e = 0; e < NERR; e++) {
		unsigned long n = 0;

		for (j = 0; j < NCLASS; j++)
			n += t.hist[j][e];
		if (n)
			ksft_print_msg("errno %-8s %7lu\n", ename(e), n);
	}
	ksft_print_msg("round trips %lu, munmap races %lu\n", t.roundtrips, t.races);
	ksft_print_msg("signal walks %lu (%lu signalled, %lu EINTR)\n", t.signal_calls, t.signals,
		       t.eintr);
	ksft_print_msg("kills %lu (%lu mid-call, the slowest took %llu ms to die)\n", t.kills,
		       t.kills_mid, (unsigned long long)t.kill_lat_max_us / 1000);
	for (j = 0; j <= NOPS; j++)
		ksft_print_msg("%-20s %7lu, %8.1f s in all threads, %7.2f ms each\n",
			       j < NOPS ? ops[j].name : "(memory operations)", t.op_n[j],
			       t.op_us[j] / 1e6, t.op_n[j] ? t.op_us[j] / 1e3 / t.op_n[j] : 0);
	ksft_print_msg("memory operations %lu, slot checks %lu, unchecked walks %lu\n",
		       t.maint, t.checks, t.unchecked);
	for (d = 0; d < g_ndev; d++)
		print_device(d, &sts[d], t.calls_dev[d]);
	if (g_ndev > 1) {
		ksft_print_msg("device 1 removed and re-created %lu times, holding %lu folios\n",
			       t.unplugs, t.unplug_folios);
		ksft_print_msg("  of which %lu bytes the remover's; %lu calls got ENODEV\n",
			       t.unplug_bytes, t.enodev);
		ksft_print_msg("  removal %.0f ms, re-creation %.0f ms on average\n",
			       t.unplugs ? t.unplug_us[0] / 1e3 / t.unplugs : 0,
			       t.unplugs ? t.unplug_us[1] / 1e3 / t.unplugs : 0);
	}

	ksft_test_result(!crashed && !t.sys_bad && !t.hang_bad,
			 "calls completed without crash (%lu calls, %lu setup errors, %lu hangs)\n",
			 done, t.sys_bad, t.hang_bad);
	ksft_test_result(!t.errno_bad && !t.unplug_enodev_bad,
			 "errnos as documented (%lu mismatches, %lu on a removed device)\n",
			 t.errno_bad, t.unplug_enodev_bad);
	ksft_test_result(!t.struct_bad, "structures written back as documented (%lu mismatches)\n",
			 t.struct_bad);
	ksft_test_result(!t.populated_bad, "untouched memory stays unpopulated (%lu)\n",
			 t.populated_bad);
	ksft_test_result(whole, "vram whole (%d device%s)\n", g_ndev, g_ndev > 1 ? "s" : "");
	ksft_test_result(!t.data_bad, "data intact (%lu bad pages)\n", t.data_bad);
	close(g_fd);
	if (g_ndev > 1)
		close(g_fds[1]);
	ksft_finished();
}
