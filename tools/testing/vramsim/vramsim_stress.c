// SPDX-License-Identifier: GPL-2.0
/*
 * vramsim_stress: random concurrent use of device-private memory, every
 * byte checked.
 *
 * M processes of N threads each run random operations on buffers: migration
 * to the device and back over random ranges (4 KiB- and 2 MiB-aligned), CPU
 * reads and writes, mmap/munmap, partial munmap, mremap, mprotect, madvise
 * and fork.  Every buffer has a shadow copy in memory no migration touches,
 * and a state per page (unmapped, private anonymous, or shared anonymous);
 * a CPU read compares the buffer with its shadow, a write updates both, and
 * every migration's result is checked against what the page states allow
 * (docs/uapi.md): EFAULT at a hole, EINVAL at a MAP_SHARED page, ENOSPC only
 * if nothing moved, never more moved than could move.
 *
 * Buffers are private to a thread or shared by the threads of a process;
 * an operation holds the buffer's mutex throughout, so the shadow stays
 * exact, while other buffers are worked on (and migrated) concurrently.
 * Each buffer lives in an address window of its own, far from where
 * mmap(NULL) places things, so that a hole punched in it stays a hole.  A
 * fork's child checks its copy of a buffer against the shadow as it was at
 * the fork, works on it, and exits; the parent's copy must not change.
 * Each process's main thread moves a large THP buffer (the hog) to the
 * device and back, so that together the processes fill the VRAM now and
 * then.
 *
 * With several vramsim devices (num_devices), each migration to the device
 * goes to one of them at random (drawn from a generator of the thread's
 * own, so the operations a seed replays are the same with one device or
 * eight), so pages also move from one device's VRAM to another's.  A
 * migration to RAM brings back one random device's pages (a round trip
 * then sends the range to that same device, what is on another one moving
 * over directly); where the run needs a buffer home (before a check or an
 * unmap) it asks every device in turn.
 *
 * At the end, with every process reaped and every buffer unmapped, every
 * device's VRAM must be idle and whole and its counters must balance.
 * Output: kselftest-style TAP and a summary line; the exit status is 0 only
 * if every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vramsim_drm.h"
#include "vramsim_lib.h"
#include "kselftest.h"

#define SZ_4K		4096UL
#define SZ_2M		VRAMSIM_SZ_2M
#define PG_SHIFT	12
#define MAX_DEVS	8	/* num_devices' maximum */
static inline size_t align_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static inline size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static inline size_t max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

/*
 * Buffers live in windows starting here (32 TiB): mmap(NULL) allocates
 * top-down from below the stack (~127 TiB) and never gets this low, so
 * nothing else is ever mapped into a buffer's holes.
 */
#define ARENA_BASE	0x200000000000UL

/* What a page of a buffer is; and masks of states, 1 << state. */
enum pstate { P_HOLE, P_PRIV, P_SHM };
enum { M_PRIV = 2, M_SHM = 4, M_MAPPED = M_PRIV | M_SHM };

enum op {
	OP_TO_DEV_4K, OP_TO_DEV_2M, OP_TO_RAM_4K, OP_TO_RAM_2M, OP_READ,
	OP_WRITE, OP_REMAP, OP_PUNCH, OP_MREMAP, OP_MPROTECT, OP_DONTNEED,
	OP_THP, OP_OVERLAY, OP_FORK, NR_OPS
};

static const struct {
	const char *name;
	unsigned int weight;	/* out of 100 */
} ops[NR_OPS] = {
	[OP_TO_DEV_4K]	= { "to_dev_4k",	14 },
	[OP_TO_DEV_2M]	= { "to_dev_2m",	10 },
	[OP_TO_RAM_4K]	= { "to_ram_4k",	 8 },
	[OP_TO_RAM_2M]	= { "to_ram_2m",	 6 },
	[OP_READ]	= { "read",		17 },
	[OP_WRITE]	= { "write",		14 },
	[OP_REMAP]	= { "remap",		 4 },
	[OP_PUNCH]	= { "punch",		 4 },
	[OP_MREMAP]	= { "mremap",		 5 },
	[OP_MPROTECT]	= { "mprotect",		 4 },
	[OP_DONTNEED]	= { "dontneed",		 5 },
	[OP_THP]	= { "thp_advise",	 4 },
	[OP_OVERLAY]	= { "overlay",		 3 },
	[OP_FORK]	= { "fork",		 2 },
};

/* Per thread, in memory shared with the parent, which adds them up. */
struct counters {
	uint64_t ops[NR_OPS];
	uint64_t data_errors;	/* pages that differed from their shadow */
	uint64_t api_errors;	/* results the documented semantics exclude */
	uint64_t enospc;	/* MIGRATE_TO_DEVICE: ENOSPC, nothing moved */
	uint64_t short_moves;	/* to the device after a trip home: not all fit */
	uint64_t moved_to_dev;
	uint64_t moved_to_ram;
	uint64_t moved_to_dev_on[MAX_DEVS];	/* per destination device */
	uint64_t moved_to_ram_on[MAX_DEVS];	/* per device brought back from */
	uint64_t shm_einval;	/* migration refused at a MAP_SHARED page */
	uint64_t hole_efault;	/* migration stopped at a hole */
	uint64_t mremap_efault;	/* resize refused: range spans VMAs */
	uint64_t forks;
	uint64_t child_failures;
	uint64_t full_seen;	/* less than 2 MiB free after a hog move */
	uint64_t done;		/* the thread finished */
	uint64_t op_ns[NR_OPS];	/* time spent in each kind of operation */
};

#define HIST	16

/* One operation on a buffer, kept to explain a data error. */
struct hist {
	uint64_t opno;
	uint64_t off;
	uint64_t len;
	uint64_t aux;
	unsigned int thread;
	int op;
	int ret;
};

struct buf {
	pthread_mutex_t lock;	/* shared slots: held for a whole operation */
	unsigned int id;
	char *win;		/* this slot's address window, two halves */
	unsigned int half;	/* the half the buffer is in */
	char *addr;
	size_t len;		/* bytes; 0: no buffer */
	unsigned char *shadow;	/* what every byte must read as */
	unsigned char *state;	/* enum pstate, per page */
	uint64_t gen;		/* buffers this slot has had */
	struct hist hist[HIST];
	unsigned int nhist;
};

struct thr {
	unsigned int proc;
	unsigned int idx;
	uint64_t rng[4];
	uint64_t dev_rng[4];	/* which device: not drawn from rng */
	uint64_t opno;
	struct counters *c;
	struct hist *h;		/* the current operation's history entry */
	bool child;		/* running in a fork child */
};

/* Options, and what follows from them. */
static struct {
	unsigned int procs;
	unsigned int threads;
	unsigned int bufs;	/* private buffers per thread */
	unsigned int shared;	/* shared buffers per process */
	uint64_t ops;		/* per thread; 0: until the time is up */
	unsigned int seconds;
	uint64_t seed;
	size_t size_min;
	size_t size_max;
	bool verbose;
	bool fork_serial;
	size_t hog;		/* per process; ~0: from the VRAM's size */
	unsigned int devices;	/* at most this many devices; 0: all there are */
	unsigned int skip;	/* operations not to do (1 << op) */
	size_t cap;		/* largest buffer (mremap grows up to it) */
	size_t half;		/* bytes of each half of a slot's window */
	struct timespec deadline;
} g = {
	.procs = 2,
	.threads = 2,
	.bufs = 2,
	.size_min = 64UL << 10,
	.size_max = 8UL << 20,
	.hog = ~0UL,
};

/* The devices used (found by the parent), and the worker's fds of them. */
static unsigned int ndevs = 1;
static int dev_fds[MAX_DEVS];

/* The worker process's state, shared by its threads. */
static struct buf *slots;
static unsigned int nslots;
static struct counters *all_counters;
static int reports;	/* data error reports printed by this process */
static __thread char curop[160];

/* One line to stdout, with a single write(): safe from threads and children. */
static void __printf(1, 2) say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) < 0)
		return;
}

/* --- Random numbers: splitmix64 seeds a xoshiro256** per thread. -------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* The same (seed, proc, thread) always gives the same sequence. */
static void rnd_seed(uint64_t *s, uint64_t seed, unsigned int proc,
		     unsigned int thread)
{
	uint64_t x = seed ^ ((uint64_t)proc << 40) ^ ((uint64_t)thread << 20);
	int i;

	for (i = 0; i < 4; i++)
		s[i] = splitmix64(&x);
}

/* Seed @t's generators: the operations', and the devices' apart. */
static void thr_seed(struct thr *t, uint64_t seed, unsigned int proc,
		     unsigned int thread)
{
	rnd_seed(t->rng, seed, proc, thread);
	rnd_seed(t->dev_rng, ~seed, proc, thread);
}

/* A device for a migration: one of them at random. */
static unsigned int pick_dev(struct thr *t)
{
	return ndevs > 1 ? rnd(t->dev_rng) % ndevs : 0;
}

/* --- Shadow pattern and page states ----------------------------------- */

static uint64_t pat_word(uint64_t off, uint64_t salt)
{
	uint64_t x = (off ^ salt) * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29) ^ salt;
}

static unsigned char pat_byte(uint64_t off, uint64_t salt)
{
	return pat_word(off & ~7ULL, salt) >> (8 * (off & 7));
}

/* Pattern @salt into base[off, off + len), by offset: any sub-range agrees. */
static void pattern(unsigned char *base, size_t off, size_t len, uint64_t salt)
{
	size_t o = off, end = off + len;

	for (; o < end && (o & 7); o++)
		base[o] = pat_byte(o, salt);
	for (; o + 8 <= end; o += 8) {
		uint64_t w = pat_word(o, salt);

		memcpy(base + o, &w, 8);
	}
	for (; o < end; o++)
		base[o] = pat_byte(o, salt);
}

/* The next run of pages in [*pg, end) whose state is in @mask. */
static bool next_run(const struct buf *b, size_t *pg, size_t end,
		     unsigned int mask, size_t *rs, size_t *re)
{
	size_t p = *pg;

	while (p < end && !(mask & (1U << b->state[p])))
		p++;
	if (p >= end) {
		*pg = end;
		return false;
	}
	*rs = p;
	while (p < end && (mask & (1U << b->state[p])))
		p++;
	*re = p;
	*pg = p;
	return true;
}

static size_t npages(const struct buf *b)
{
	return b->len >> PG_SHIFT;
}

static bool any_mapped(const struct buf *b)
{
	size_t pg = 0, rs, re;

	return next_run(b, &pg, npages(b), M_MAPPED, &rs, &re);
}

static bool any_in(const struct buf *b, unsigned int mask)
{
	size_t pg = 0, rs, re;

	return next_run(b, &pg, npages(b), mask, &rs, &re);
}

/* --- Reporting --------------------------------------------------------- */

static void print_hist(const struct buf *b)
{
	unsigned int i, n = min_sz(b->nhist, HIST);

	say("#   last %u operations on slot %u (buffer %llu at %p, %zu bytes):", n,
	    b->id, (unsigned long long)b->gen, b->addr, b->len);
	for (i = b->nhist - n; i < b->nhist; i++) {
		const struct hist *h = &b->hist[i % HIST];

		say("#     #%llu t%u %s off=0x%llx len=0x%llx aux=0x%llx ret=%d",
		    (unsigned long long)h->opno, h->thread, ops[h->op].name,
		    (unsigned long long)h->off, (unsigned long long)h->len,
		    (unsigned long long)h->aux, h->ret);
	}
}

static void __printf(3, 4)
api_error(struct thr *t, const struct buf *b, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->c->api_errors++;
	if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) >= 50)
		return;
	say("# API ERROR p%u t%u%s op #%llu (%s) slot %u: %s", t->proc, t->idx,
	    t->child ? " (fork child)" : "", (unsigned long long)t->opno, curop,
	    b->id, msg);
	print_hist(b);
}

/*
 * [s, e) of @b differs from its shadow: count and report the bad pages,
 * then take the buffer's contents as the new shadow, so that one corruption
 * is counted once.
 */
static size_t mismatch(struct thr *t, struct buf *b, size_t s, size_t e,
		       const char *why)
{
	size_t o, first = e, bad = 0;

	for (o = s; o < e; o = (o & ~(SZ_4K - 1)) + SZ_4K) {
		size_t pe = min_sz(e, (o & ~(SZ_4K - 1)) + SZ_4K);

		if (memcmp(b->addr + o, b->shadow + o, pe - o)) {
			if (first == e) {
				for (first = o; b->addr[first] == b->shadow[first]; first++)
					;
			}
			bad++;
		}
	}
	t->c->data_errors += bad;
	if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) < 50) {
		say("# DATA ERROR p%u t%u%s op #%llu (%s) slot %u, %s:", t->proc,
		    t->idx, t->child ? " (fork child)" : "",
		    (unsigned long long)t->opno, curop, b->id, why);
		say("#   %zu page(s) of [0x%zx, 0x%zx) differ; first at offset 0x%zx",
		    bad, s, e, first);
		say("#   (%p, a %s page): read 0x%02x, expected 0x%02x",
		    b->addr + first,
		    b->state[first >> PG_SHIFT] == P_SHM ? "shared" : "private",
		    (unsigned char)b->addr[first], b->shadow[first]);
		print_hist(b);
	}
	memcpy(b->shadow + s, b->addr + s, e - s);
	return bad;
}

/* Compare the mapped bytes of [off, off + len) of @b with the shadow. */
static size_t verify(struct thr *t, struct buf *b, size_t off, size_t len,
		     const char *why)
{
	size_t pg = off >> PG_SHIFT, end = (off + len + SZ_4K - 1) >> PG_SHIFT;
	size_t rs, re, bad = 0;

	while (next_run(b, &pg, end, M_MAPPED, &rs, &re)) {
		size_t s = max_sz(off, rs << PG_SHIFT);
		size_t e = min_sz(off + len, re << PG_SHIFT);

		if (memcmp(b->addr + s, b->shadow + s, e - s))
			bad += mismatch(t, b, s, e, why);
	}
	return bad;
}

/* Write pattern @salt to the pages of [off, off + len) in @mask. */
static void write_range(struct buf *b, size_t off, size_t len, uint64_t salt,
			unsigned int mask)
{
	size_t pg = off >> PG_SHIFT, end = (off + len + SZ_4K - 1) >> PG_SHIFT;
	size_t rs, re;

	while (next_run(b, &pg, end, mask, &rs, &re)) {
		size_t s = max_sz(off, rs << PG_SHIFT);
		size_t e = min_sz(off + len, re << PG_SHIFT);

		pattern(b->shadow, s, e - s, salt);
		memcpy(b->addr + s, b->shadow + s, e - s);
	}
}

/* One 8-byte word in each page of [off, off + len) in @mask. */
static void touch_range(struct buf *b, size_t off, size_t len, uint64_t salt,
			unsigned int mask)
{
	size_t pg = off >> PG_SHIFT, end = (off + len + SZ_4K - 1) >> PG_SHIFT;
	size_t rs, re, p;

	while (next_run(b, &pg, end, mask, &rs, &re)) {
		for (p = rs; p < re; p++) {
			size_t o = (p << PG_SHIFT) + ((salt >> 3) % 512) * 8;

			pattern(b->shadow, o, 8, salt);
			memcpy(b->addr + o, b->shadow + o, 8);
		}
	}
}

/* --- Migration, checked against the page states ------------------------ */

/* Bytes from @off to the first page in [off, off + len) that is not private. */
static size_t priv_prefix(const struct buf *b, size_t off, size_t len,
			  int *stop)
{
	size_t pg = off >> PG_SHIFT, end = (off + len) >> PG_SHIFT;

	while (pg < end && b->state[pg] == P_PRIV)
		pg++;
	*stop = pg == end ? 0 : b->state[pg] == P_HOLE ? -EFAULT : -EINVAL;
	return (pg << PG_SHIFT) - off;
}

/*
 * Migrate [off, off + len) of @b (page aligned) to device @dev's VRAM or
 * from it, and check the result: the walk goes up the range and fails at
 * the first page that is a hole (EFAULT) or shared (EINVAL); before it, it
 * moves what fits.  To a device, pages in another device's VRAM move too;
 * to RAM, only @dev's.  Returns the ioctl's result (0 or -errno) and
 * *moved.
 */
static int migrate_on(struct thr *t, struct buf *b, unsigned int dev,
		      bool to_dev, size_t off, size_t len, uint64_t *moved)
{
	const char *dir = to_dev ? "MIGRATE_TO_DEVICE" : "MIGRATE_TO_RAM";
	int stop, ret;
	size_t before = priv_prefix(b, off, len, &stop);
	__u64 m = 0;

	ret = vs_migrate(dev_fds[dev], to_dev ? VRAMSIM_TO_DEV : VRAMSIM_TO_RAM,
			 b->addr + off, len, &m);
	*moved = m;
	if (g.verbose)
		say("# p%u t%u #%llu   %s dev %u [0x%zx +0x%zx): %d moved 0x%llx (0x%zx, %d)",
		    t->proc, t->idx, (unsigned long long)t->opno, dir, dev, off,
		    len, ret, (unsigned long long)m, before, stop);
	if (m > before || (m & (SZ_4K - 1)))
		api_error(t, b,
			  "%s dev %u [0x%zx +0x%zx): moved 0x%llx, but only 0x%zx bytes before %s can move",
			  dir, dev, off, len, (unsigned long long)m, before,
			  stop ? "the first non-private page" : "the end");
	if (to_dev) {
		t->c->moved_to_dev += m;
		t->c->moved_to_dev_on[dev] += m;
	} else {
		t->c->moved_to_ram += m;
		t->c->moved_to_ram_on[dev] += m;
	}

	if (ret == stop && stop) {
		if (stop == -EFAULT)
			t->c->hole_efault++;
		else
			t->c->shm_einval++;
	} else if (ret == stop) {
		/* 0 where the whole range is private: moved what fit. */
	} else if (to_dev && ret == -ENOSPC && before) {
		/* The VRAM was full before the walk got anywhere. */
		t->c->enospc++;
		if (m)
			api_error(t, b, "ENOSPC, but moved 0x%llx",
				  (unsigned long long)m);
	} else if (to_dev && ret == 0 && stop && m < before) {
		/* The VRAM filled up before the walk reached the bad page. */
		t->c->short_moves++;
	} else {
		api_error(t, b, "%s dev %u [0x%zx +0x%zx): %s (moved 0x%llx), expected %s",
			  dir, dev, off, len, ret ? strerror(-ret) : "success",
			  (unsigned long long)m, stop ? strerror(-stop) :
			  to_dev ? "success or ENOSPC" : "success");
	}
	return ret;
}

/*
 * To the device: to one of them at random.  To RAM: home from every
 * device in turn, the first error returned.  A page is in one VRAM at most,
 * so the devices together bring back no more than could move.
 */
static int migrate(struct thr *t, struct buf *b, bool to_dev, size_t off,
		   size_t len, uint64_t *moved)
{
	size_t before;
	unsigned int d;
	uint64_t m;
	int ret = 0, r, stop;

	if (to_dev)
		return migrate_on(t, b, pick_dev(t), true, off, len, moved);
	*moved = 0;
	for (d = 0; d < ndevs; d++) {
		r = migrate_on(t, b, d, false, off, len, &m);
		*moved += m;
		if (!ret)
			ret = r;
	}
	before = priv_prefix(b, off, len, &stop);
	if (ndevs > 1 && *moved > before)
		api_error(t, b,
			  "MIGRATE_TO_RAM [0x%zx +0x%zx) from %u devices: 0x%llx moved in all, but only 0x%zx bytes can move",
			  off, len, ndevs, (unsigned long long)*moved, before);
	return ret;
}

/* Migrate each run of private pages of [off, off + len) on its own. */
static void migrate_runs(struct thr *t, struct buf *b, bool to_dev, size_t off,
			 size_t len)
{
	size_t pg = off >> PG_SHIFT, end = (off + len) >> PG_SHIFT, rs, re;
	uint64_t moved;

	while (next_run(b, &pg, end, M_PRIV, &rs, &re))
		migrate(t, b, to_dev, rs << PG_SHIFT, (re - rs) << PG_SHIFT, &moved);
}

/* --- Choosing ranges --------------------------------------------------- */

/* A page-granular sub-range of @b: often small, sometimes all of it. */
static void pick_pages(const struct buf *b, uint64_t r1, uint64_t r2,
		       size_t *off, size_t *len)
{
	size_t np = npages(b), first = r1 % np, n, max = np - first;

	switch (r2 & 7) {
	case 0: case 1: case 2:
		n = 1 + (r2 >> 3) % min_sz(max, 16);
		break;
	case 3: case 4:
		n = 1 + (r2 >> 3) % min_sz(max, 256);
		break;
	case 5: case 6:
		n = 1 + (r2 >> 3) % min_sz(max, 1024);
		break;
	default:
		first = 0;
		n = np;
		break;
	}
	*off = first << PG_SHIFT;
	*len = n << PG_SHIFT;
}

/*
 * 2 MiB-aligned (in address terms) blocks of @b, clipped to it; the whole
 * buffer if it holds no 2 MiB boundary.
 */
static void pick_2m(const struct buf *b, uint64_t r1, uint64_t r2,
		    size_t *off, size_t *len)
{
	uintptr_t a = (uintptr_t)b->addr, e = a + b->len;
	uintptr_t lo = align_up(a, SZ_2M), s, end;
	size_t nblk, first;

	if (lo >= e) {
		*off = 0;
		*len = b->len;
		return;
	}
	nblk = (e - lo + SZ_2M - 1) / SZ_2M;
	first = r1 % nblk;
	s = lo + first * SZ_2M;
	end = min_sz(s + (1 + r2 % (nblk - first)) * SZ_2M, e);
	/* Sometimes from the start of the buffer, an unaligned head. */
	if ((r2 >> 32) % 4 == 0)
		s = a;
	*off = s - a;
	*len = end - s;
}

/* A byte range of @b: a few bytes, pages, up to 64 KiB, or all of it. */
static void pick_bytes(const struct buf *b, uint64_t r1, uint64_t r2,
		       size_t *off, size_t *len)
{
	switch (r2 & 3) {
	case 0:
		*off = 0;
		*len = b->len;
		return;
	case 1:
		*off = r1 % b->len;
		*len = min_sz(b->len - *off, 1 + (r2 >> 2) % 256);
		return;
	case 2:
		pick_pages(b, r1, r2 >> 2, off, len);
		return;
	default:
		*off = r1 % b->len;
		*len = min_sz(b->len - *off, 1 + (r2 >> 2) % (64 << 10));
		return;
	}
}

/* Shrink [off, off + len) to its first run of private pages, if it has one. */
static void clip_to_priv(const struct buf *b, size_t *off, size_t *len)
{
	size_t pg = *off >> PG_SHIFT, end = (*off + *len) >> PG_SHIFT, rs, re;

	if (next_run(b, &pg, end, M_PRIV, &rs, &re)) {
		*off = rs << PG_SHIFT;
		*len = (re - rs) << PG_SHIFT;
	}
}

/* --- Buffers ----------------------------------------------------------- */

static size_t span(void)
{
	return g.cap + SZ_2M;
}

/* An address for a buffer in half @half of @b's window; sometimes unaligned. */
static char *place(const struct buf *b, unsigned int half, uint64_t r)
{
	size_t nplaces = (g.half - span()) / SZ_2M + 1;
	size_t off = (r % nplaces) * SZ_2M;

	if ((r >> 32) % 8 == 0)
		off += SZ_4K * (1 + (r >> 40) % 511);
	return b->win + half * g.half + off;
}

static size_t pick_size(uint64_t r)
{
	size_t lo = g.size_min >> PG_SHIFT, hi = g.size_max >> PG_SHIFT;

	/* Half of them whole 2 MiB blocks, if the sizes allow. */
	if ((r & 1) == 0 && g.size_max >= SZ_2M) {
		size_t b0 = max_sz(1, align_up(g.size_min, SZ_2M) / SZ_2M);
		size_t b1 = g.size_max / SZ_2M;

		return (b0 + (r >> 2) % (b1 - b0 + 1)) * SZ_2M;
	}
	return (lo + (r >> 2) % (hi - lo + 1)) << PG_SHIFT;
}

/* A new buffer in @b (which has none): private or shared, THP or not. */
static void map_new(struct thr *t, struct buf *b, uint64_t seed)
{
	uint64_t x = seed, r1 = splitmix64(&x), r2 = splitmix64(&x);
	uint64_t r3 = splitmix64(&x), r4 = splitmix64(&x);
	size_t len = pick_size(r1);
	bool shm = r2 % 10 == 0;
	unsigned int adv = (r2 >> 8) % 20, half = (r2 >> 16) & 1;
	char *addr = place(b, half, r3);
	void *p;

	b->gen++;
	p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS |
		 MAP_FIXED_NOREPLACE | (shm ? MAP_SHARED : MAP_PRIVATE), -1, 0);
	if (p != addr) {
		api_error(t, b, "mmap(%p, 0x%zx): %s", addr, len,
			  p == MAP_FAILED ? strerror(errno) : "elsewhere");
		if (p != MAP_FAILED)
			munmap(p, len);
		b->len = 0;
		return;
	}
	if (adv < 11 && madvise(p, len, MADV_HUGEPAGE))
		api_error(t, b, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
	else if (adv >= 11 && adv < 15 && madvise(p, len, MADV_NOHUGEPAGE))
		api_error(t, b, "madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	b->addr = addr;
	b->len = len;
	b->half = half;
	memset(b->state, shm ? P_SHM : P_PRIV, len >> PG_SHIFT);
	memset(b->shadow, 0, len);
	t->h->aux = len;
	switch ((r2 >> 24) % 10) {
	case 0: case 1: case 2: case 3:
		write_range(b, 0, len, r4, M_MAPPED);
		break;
	case 4: case 5: case 6: {
		size_t off, n;

		pick_pages(b, r4, r4 >> 32, &off, &n);
		write_range(b, off, n, r4, M_MAPPED);
		break;
	}
	default:
		/* Untouched: reads as zeroes, migrates as unpopulated memory. */
		break;
	}
}

/*
 * Check [off, off + len) of @b before it goes away; half the time after
 * MIGRATE_TO_RAM, one call per 2 MiB rather than a CPU fault per page.
 */
static void verify_home(struct thr *t, struct buf *b, size_t off, size_t len,
			const char *why, uint64_t r)
{
	if (r & 1)
		migrate_runs(t, b, false, off, len);
	verify(t, b, off, len, why);
}

/* Check all of @b, sometimes send it to the device, and unmap it. */
static void unmap_buf(struct thr *t, struct buf *b, uint64_t r)
{
	verify_home(t, b, 0, b->len, "before munmap", r);
	/* Unmapping device pages frees them from the zap path. */
	if (r & 2)
		migrate_runs(t, b, true, 0, b->len);
	if (munmap(b->addr, b->len))
		api_error(t, b, "munmap: %s", strerror(errno));
	b->len = 0;
}

/* --- Operations (the buffer's lock held) ------------------------------- */

static void op_migrate(struct thr *t, struct buf *b, const uint64_t *r,
		       bool to_dev, bool huge)
{
	size_t off, len, before;
	uint64_t moved, back;
	int stop, ret;

	if (huge)
		pick_2m(b, r[2], r[3], &off, &len);
	else
		pick_pages(b, r[2], r[3], &off, &len);
	/* Often all of it, to the device: that is what fills the VRAM. */
	if (to_dev && (r[5] & 3) == 0) {
		off = 0;
		len = b->len;
	}
	/* Mostly ranges that can move; sometimes across a hole or shared page. */
	if (r[4] % 4)
		clip_to_priv(b, &off, &len);
	t->h->off = off;
	t->h->len = len;
	if (to_dev && (r[4] & 4)) {
		unsigned int dev = pick_dev(t);

		/*
		 * A round trip: after MIGRATE_TO_RAM no page of the range is
		 * on the device, so everything before the first non-private
		 * page moves (from RAM, or from another device's VRAM),
		 * unless the VRAM fills up.
		 */
		migrate_on(t, b, dev, false, off, len, &back);
		before = priv_prefix(b, off, len, &stop);
		ret = migrate_on(t, b, dev, true, off, len, &moved);
		if (!ret && !stop && moved < before)
			t->c->short_moves++;
	} else if (!to_dev) {
		/* Only that device's pages come back. */
		ret = migrate_on(t, b, pick_dev(t), false, off, len, &moved);
	} else {
		ret = migrate(t, b, to_dev, off, len, &moved);
	}
	t->h->ret = ret;
	t->h->aux = moved;
	if (!((r[4] >> 3) & 3))
		verify(t, b, off, len, "right after a migration");
}

static void op_read(struct thr *t, struct buf *b, const uint64_t *r)
{
	size_t off, len;

	pick_bytes(b, r[2], r[3], &off, &len);
	t->h->off = off;
	t->h->len = len;
	verify(t, b, off, len, "read");
}

static void op_write(struct thr *t, struct buf *b, const uint64_t *r)
{
	size_t off, len;

	pick_bytes(b, r[2], r[3], &off, &len);
	t->h->off = off;
	t->h->len = len;
	t->h->aux = r[4];
	if (r[5] & 1)
		touch_range(b, off, len, r[4], M_MAPPED);
	else
		write_range(b, off, len, r[4], M_MAPPED);
}

static void op_remap(struct thr *t, struct buf *b, const uint64_t *r)
{
	unmap_buf(t, b, r[2]);
	map_new(t, b, r[3]);
}

/* Partial munmap: the shadow forgets those pages. */
static void op_punch(struct thr *t, struct buf *b, const uint64_t *r)
{
	size_t off, len;

	if (r[4] & 1)
		pick_2m(b, r[2], r[3], &off, &len);
	else
		pick_pages(b, r[2], r[3], &off, &len);
	t->h->off = off;
	t->h->len = len;
	verify_home(t, b, off, len, "before a partial munmap", r[4] >> 2);
	if (r[4] & 2)
		migrate_runs(t, b, true, off, len);
	t->h->ret = munmap(b->addr + off, len) ? -errno : 0;
	if (t->h->ret)
		api_error(t, b, "munmap(+0x%zx, 0x%zx): %s", off, len,
			  strerror(errno));
	memset(b->state + (off >> PG_SHIFT), P_HOLE, len >> PG_SHIFT);
	if (!any_mapped(b)) {
		munmap(b->addr, b->len);
		b->len = 0;
	}
}

/*
 * mremap: move to the other half of the window (holes and VMA boundaries
 * move along, possibly to an unaligned address), shrink or grow in place.
 */
static void op_mremap(struct thr *t, struct buf *b, const uint64_t *r)
{
	size_t len = b->len, np = npages(b), newlen;
	unsigned int kind = r[2] % 3;
	void *p;

	if (kind == 0) {
		char *to = place(b, !b->half, r[3]);
		int expect = b->state[0] == P_HOLE ? -EFAULT : 0;

		t->h->aux = (uintptr_t)to;
		p = mremap(b->addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		t->h->ret = p == MAP_FAILED ? -errno : 0;
		if (t->h->ret != expect || (p != MAP_FAILED && p != to)) {
			api_error(t, b, "mremap move to %p: %s, expected %s", to,
				  p == MAP_FAILED ? strerror(errno) : "success",
				  expect ? strerror(-expect) : "success");
		}
		if (p == MAP_FAILED)
			return;
		b->addr = p;
		b->half = !b->half;
		return;
	}

	if (kind == 1) {
		if (np < 2)
			return;
		if (r[3] & 1 && len > SZ_2M)
			newlen = (1 + (r[3] >> 1) % (len / SZ_2M)) * SZ_2M;
		else
			newlen = (1 + (r[3] >> 1) % (np - 1)) << PG_SHIFT;
		if (newlen >= len)
			newlen = len - SZ_4K;
		/* What goes away is checked first, like before munmap. */
		verify_home(t, b, newlen, len - newlen, "before mremap shrinks", r[4]);
	} else {
		/* Growing a shared mapping past its object would SIGBUS. */
		if (any_in(b, M_SHM) || len >= g.cap)
			return;
		newlen = len + ((1 + r[3] % 512) << PG_SHIFT);
		if (r[3] & (1ULL << 40))
			newlen = align_up(len + 1, SZ_2M);
		newlen = min_sz(newlen, g.cap);
	}
	t->h->aux = newlen;
	p = mremap(b->addr, len, newlen, 0);
	t->h->ret = p == MAP_FAILED ? -errno : 0;
	if (p == MAP_FAILED) {
		/* The range is not one VMA (e.g. madvise split it). */
		if (errno == EFAULT) {
			t->c->mremap_efault++;
			return;
		}
		api_error(t, b, "mremap 0x%zx -> 0x%zx: %s", len, newlen,
			  strerror(errno));
		return;
	}
	if (p != b->addr) {
		api_error(t, b, "mremap 0x%zx -> 0x%zx moved the buffer to %p",
			  len, newlen, p);
		b->addr = p;
	}
	if (newlen > len) {
		memset(b->state + np, P_PRIV, (newlen - len) >> PG_SHIFT);
		memset(b->shadow + len, 0, newlen - len);
	}
	b->len = newlen;
}

/* Read-only or no access for a while, with migrations, then back. */
static void op_mprotect(struct thr *t, struct buf *b, const uint64_t *r)
{
	int prot = r[4] & 1 ? PROT_READ : PROT_NONE;
	size_t off, len, pg, end, rs, re;
	uint64_t moved;

	pick_pages(b, r[2], r[3], &off, &len);
	t->h->off = off;
	t->h->len = len;
	t->h->aux = prot;
	end = (off + len) >> PG_SHIFT;
	for (pg = off >> PG_SHIFT; next_run(b, &pg, end, M_MAPPED, &rs, &re);)
		if (mprotect(b->addr + (rs << PG_SHIFT), (re - rs) << PG_SHIFT, prot))
			api_error(t, b, "mprotect(%d): %s", prot, strerror(errno));
	if (prot == PROT_READ)
		verify(t, b, off, len, "read-only");
	if (r[4] & 2)
		migrate(t, b, true, off, len, &moved);
	if (prot == PROT_READ && (r[4] & 4))
		verify(t, b, off, len, "read-only, after a migration");
	if (r[4] & 8)
		migrate(t, b, false, off, len, &moved);
	for (pg = off >> PG_SHIFT; next_run(b, &pg, end, M_MAPPED, &rs, &re);)
		if (mprotect(b->addr + (rs << PG_SHIFT), (re - rs) << PG_SHIFT,
			     PROT_READ | PROT_WRITE))
			api_error(t, b, "mprotect back: %s", strerror(errno));
	/* Write faults on what was read-only, maybe on the device. */
	if (r[4] & 16)
		touch_range(b, off, len, r[5], M_MAPPED);
}

/* MADV_DONTNEED: private pages read zero again; shared ones keep their data. */
static void op_dontneed(struct thr *t, struct buf *b, const uint64_t *r)
{
	size_t off, len, pg, end, rs, re;

	if (r[4] & 1)
		pick_2m(b, r[2], r[3], &off, &len);
	else
		pick_pages(b, r[2], r[3], &off, &len);
	t->h->off = off;
	t->h->len = len;
	end = (off + len) >> PG_SHIFT;
	for (pg = off >> PG_SHIFT; next_run(b, &pg, end, M_MAPPED, &rs, &re);)
		if (madvise(b->addr + (rs << PG_SHIFT), (re - rs) << PG_SHIFT,
			    MADV_DONTNEED))
			api_error(t, b, "madvise(MADV_DONTNEED): %s", strerror(errno));
	for (pg = off >> PG_SHIFT; next_run(b, &pg, end, M_PRIV, &rs, &re);)
		memset(b->shadow + (rs << PG_SHIFT), 0, (re - rs) << PG_SHIFT);
}

static void op_thp(struct thr *t, struct buf *b, const uint64_t *r)
{
	int advice = r[4] & 1 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
	size_t off, len, pg, end, rs, re;

	if (r[4] & 2)
		pick_2m(b, r[2], r[3], &off, &len);
	else
		pick_pages(b, r[2], r[3], &off, &len);
	t->h->off = off;
	t->h->len = len;
	t->h->aux = advice;
	end = (off + len) >> PG_SHIFT;
	for (pg = off >> PG_SHIFT; next_run(b, &pg, end, M_MAPPED, &rs, &re);)
		if (madvise(b->addr + (rs << PG_SHIFT), (re - rs) << PG_SHIFT, advice))
			api_error(t, b, "madvise(%d): %s", advice, strerror(errno));
}

/* A fresh mapping over part of the buffer: MAP_SHARED or private. */
static void op_overlay(struct thr *t, struct buf *b, const uint64_t *r)
{
	bool shm = r[4] & 1;
	size_t off, len;
	void *p;

	pick_pages(b, r[2], r[3], &off, &len);
	t->h->off = off;
	t->h->len = len;
	t->h->aux = shm;
	verify_home(t, b, off, len, "before an overlay mmap", r[4] >> 2);
	p = mmap(b->addr + off, len, PROT_READ | PROT_WRITE, MAP_ANONYMOUS |
		 MAP_FIXED | (shm ? MAP_SHARED : MAP_PRIVATE), -1, 0);
	if (p != b->addr + off) {
		api_error(t, b, "mmap(MAP_FIXED) over +0x%zx: %s", off,
			  p == MAP_FAILED ? strerror(errno) : "elsewhere");
		/* The range is in an unknown state: take the buffer away. */
		munmap(b->addr, b->len);
		b->len = 0;
		return;
	}
	memset(b->state + (off >> PG_SHIFT), shm ? P_SHM : P_PRIV, len >> PG_SHIFT);
	memset(b->shadow + off, 0, len);
	if (r[4] & 2)
		write_range(b, off, len, r[5], M_MAPPED);
}

/*
 * In the child of a fork: its copy of @b, and its copy of the shadow as it
 * was at fork time, must agree; then it works on its copy.  Only private
 * pages are written (shared ones are the parent's too).  Exit status:
 * bit 0 a data error, bit 1 an API error.
 */
static int fork_child(const struct thr *pt, struct buf *b, const uint64_t *r)
{
	struct counters lc = { 0 };
	struct thr t = *pt;
	size_t off, len;

	t.c = &lc;
	t.child = true;
	verify(&t, b, 0, b->len, "fork child, its snapshot");
	if (r[4] & 1) {
		pick_bytes(b, r[5], r[5] >> 32, &off, &len);
		write_range(b, off, len, r[6], M_PRIV);
	}
	if (r[4] & 2) {
		migrate_runs(&t, b, true, 0, b->len);
		verify(&t, b, 0, b->len, "fork child, after migrating its copy");
	}
	if (r[4] & 4) {
		migrate_runs(&t, b, true, 0, b->len);
		migrate_runs(&t, b, false, 0, b->len);
		verify(&t, b, 0, b->len, "fork child, after a round trip");
	}
	return (lc.data_errors ? 1 : 0) | (lc.api_errors ? 2 : 0);
}

/*
 * A Linux 7.3 bug that patches/0001 fixes, and the rule that steered clear
 * of it before.  Zapping a PMD migration entry whose folio is
 * device-private (munmap, MADV_DONTNEED, exit) made zap_huge_pmd_folio()
 * drop an rmap and a reference that the migration entry does not hold: the
 * folio was freed under the migration (VM_BUG_ON_PAGE in
 * do_huge_pmd_device_private(), or a bad rmap).  Such entries exist while a
 * device THP is migrated back to RAM, in every process that maps it, and a
 * fork's child maps all of the parent's buffers and zaps them when it
 * exits.  Every kernel vramsim builds has the fix, so a fork's child exits
 * whenever it is done, while its parent migrates.  --fork-serial brings the
 * old rule back, for a kernel without the fix: the child exits only when
 * the parent holds fork_lock for writing, every other operation of the
 * process holding it for reading.
 */
static pthread_rwlock_t fork_lock;

static void fork_lock_init(void)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	/* A fork must not wait for a gap in four threads' operations. */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&fork_lock, &a);
	pthread_rwlockattr_destroy(&a);
}

static void op_fork(struct thr *t, struct buf *b, const uint64_t *r)
{
	int ready[2], go[2], status;
	size_t off, len;
	char c = 'g';
	pid_t pid;

	if (pipe(ready) || pipe(go)) {
		api_error(t, b, "pipe: %s", strerror(errno));
		return;
	}
	t->c->forks++;
	pid = fork();
	if (pid < 0) {
		api_error(t, b, "fork: %s", strerror(errno));
		return;
	}
	if (!pid) {
		int ret = fork_child(t, b, r);

		/* Exit (zap everything) only when the parent says so. */
		if (g.fork_serial &&
		    (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1))
			ret |= 4;
		_exit(ret);
	}

	/* Meanwhile the parent changes its own copy. */
	if (r[4] & 8) {
		pick_bytes(b, r[7], r[7] >> 32, &off, &len);
		write_range(b, off, len, r[3], M_PRIV);
	}
	if (r[4] & 16)
		migrate_runs(t, b, true, 0, b->len);
	if (g.fork_serial) {
		/* thread_main() holds it for reading; no migration while it exits. */
		pthread_rwlock_unlock(&fork_lock);
		if (read(ready[0], &c, 1) != 1)
			api_error(t, b, "fork child: no word before its exit");
		pthread_rwlock_wrlock(&fork_lock);
		if (write(go[1], &c, 1) != 1)
			api_error(t, b, "fork child: could not let it exit");
	}
	if (waitpid(pid, &status, 0) != pid) {
		api_error(t, b, "waitpid: %s", strerror(errno));
		return;
	}
	if (g.fork_serial) {
		pthread_rwlock_unlock(&fork_lock);
		pthread_rwlock_rdlock(&fork_lock);
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	t->h->aux = status;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		t->c->child_failures++;
		say("# FORK CHILD FAILED p%u t%u op #%llu slot %u: %s %d", t->proc,
		    t->idx, (unsigned long long)t->opno, b->id,
		    WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	verify(t, b, 0, b->len, "parent after its child exited");
}

/* --- Threads and processes --------------------------------------------- */

static bool time_up(void)
{
	struct timespec now;

	if (!g.seconds)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > g.deadline.tv_sec ||
	       (now.tv_sec == g.deadline.tv_sec && now.tv_nsec >= g.deadline.tv_nsec);
}

/* A skipped operation becomes a read: the draws stay the same. */
static enum op pick_op(uint64_t r)
{
	unsigned int x = r % 100, i;

	for (i = 0; i < NR_OPS - 1; i++) {
		if (x < ops[i].weight)
			break;
		x -= ops[i].weight;
	}
	return g.skip & (1U << i) ? OP_READ : i;
}

/* --skip: a comma-separated list of operation names. */
static int parse_skip(char *list)
{
	char *name, *save = NULL;
	unsigned int i;

	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_OPS && strcmp(name, ops[i].name); i++)
			;
		if (i == NR_OPS || i == OP_READ)
			return -1;
		g.skip |= 1U << i;
	}
	return 0;
}

static struct buf *pick_slot(const struct thr *t, uint64_t r)
{
	if (!g.shared || (r >> 32) & 1)
		return &slots[t->idx * g.bufs + r % g.bufs];
	return &slots[g.threads * g.bufs + r % g.shared];
}

static void run_op(struct thr *t, struct buf *b, enum op op, const uint64_t *r)
{
	switch (op) {
	case OP_TO_DEV_4K:
		op_migrate(t, b, r, true, false);
		break;
	case OP_TO_DEV_2M:
		op_migrate(t, b, r, true, true);
		break;
	case OP_TO_RAM_4K:
		op_migrate(t, b, r, false, false);
		break;
	case OP_TO_RAM_2M:
		op_migrate(t, b, r, false, true);
		break;
	case OP_READ:
		op_read(t, b, r);
		break;
	case OP_WRITE:
		op_write(t, b, r);
		break;
	case OP_REMAP:
		op_remap(t, b, r);
		break;
	case OP_PUNCH:
		op_punch(t, b, r);
		break;
	case OP_MREMAP:
		op_mremap(t, b, r);
		break;
	case OP_MPROTECT:
		op_mprotect(t, b, r);
		break;
	case OP_DONTNEED:
		op_dontneed(t, b, r);
		break;
	case OP_THP:
		op_thp(t, b, r);
		break;
	case OP_OVERLAY:
		op_overlay(t, b, r);
		break;
	case OP_FORK:
		op_fork(t, b, r);
		break;
	default:
		break;
	}
}

/* Start @b's history entry for the operation @t is about to do. */
static void new_hist(struct thr *t, struct buf *b, enum op op)
{
	struct hist *h = &b->hist[b->nhist++ % HIST];

	memset(h, 0, sizeof(*h));
	h->opno = t->opno;
	h->thread = t->idx;
	h->op = op;
	t->h = h;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	while ((!g.ops || t->opno < g.ops) && !time_up()) {
		struct timespec t0, t1;
		uint64_t r[8];
		struct buf *b;
		enum op op;
		int i;

		/* Always 8 draws per operation: the sequence does not depend on state. */
		for (i = 0; i < 8; i++)
			r[i] = rnd(t->rng);
		op = pick_op(r[0]);
		b = pick_slot(t, r[1]);

		pthread_mutex_lock(&b->lock);
		snprintf(curop, sizeof(curop), "%s on slot %u", ops[op].name, b->id);
		if (!b->len) {
			/* An empty slot gets a new buffer first. */
			new_hist(t, b, OP_REMAP);
			map_new(t, b, r[7]);
		}
		if (b->len) {
			new_hist(t, b, op);
			if (g.verbose)
				say("# p%u t%u #%llu %s slot %u (%p +0x%zx)", t->proc, t->idx,
				    (unsigned long long)t->opno, ops[op].name, b->id,
				    b->addr, b->len);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			pthread_rwlock_rdlock(&fork_lock);
			run_op(t, b, op, r);
			pthread_rwlock_unlock(&fork_lock);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			t->c->op_ns[op] += (t1.tv_sec - t0.tv_sec) * 1000000000ULL +
					   t1.tv_nsec - t0.tv_nsec;
			t->c->ops[op]++;
		}
		pthread_mutex_unlock(&b->lock);
		t->opno++;
	}
	__atomic_store_n(&t->c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	say("# FATAL: signal %d at address %p during %s", sig, si->si_addr, curop);
	_exit(3);
}

/* Counters of thread @idx of process @proc; idx g.threads: the main thread. */
static struct counters *counters_of(unsigned int proc, unsigned int idx)
{
	return &all_counters[proc * (g.threads + 1) + idx];
}

static bool threads_done(unsigned int proc)
{
	unsigned int i;

	for (i = 0; i < g.threads; i++)
		if (!__atomic_load_n(&counters_of(proc, i)->done, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/*
 * The process's main thread, while the others run: keeps a large THP
 * buffer (the hog) going to the device and back, so that together the
 * processes fill the VRAM now and then (ENOSPC, partial moves, and 2 MiB
 * allocations falling back to 4 KiB ones).
 */
static void run_hog(struct thr *t, struct buf *hog)
{
	struct timespec t0, t1;
	uint64_t moved;
	size_t off, len;
	enum op op;
	int i;

	while (!threads_done(t->proc)) {
		uint64_t r = rnd(t->rng);

		/* To the device every other time; then home, or 2 MiB of it read. */
		new_hist(t, hog, OP_TO_DEV_2M);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pthread_rwlock_rdlock(&fork_lock);
		if (t->opno % 2 == 0) {
			unsigned int dev = pick_dev(t);
			struct drm_vramsim_query q;

			op = OP_TO_DEV_2M;
			t->h->ret = migrate_on(t, hog, dev, true, 0, hog->len, &moved);
			/* Only to tell how often the VRAM filled up. */
			if (!vs_query(dev_fds[dev], &q) && q.vram_free < SZ_2M)
				t->c->full_seen++;
		} else if (r & 1) {
			op = OP_TO_RAM_2M;
			t->h->ret = migrate(t, hog, false, 0, hog->len, &moved);
		} else {
			op = OP_READ;
			pick_2m(hog, r >> 8, 0, &off, &len);
			verify(t, hog, off, len, "hog read");
		}
		pthread_rwlock_unlock(&fork_lock);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		t->h->op = op;
		t->c->ops[op]++;
		t->c->op_ns[op] += (t1.tv_sec - t0.tv_sec) * 1000000000ULL +
				   t1.tv_nsec - t0.tv_nsec;
		t->opno++;
		for (i = 0; i < 5 && !threads_done(t->proc); i++)
			usleep(100000);
	}
}

/* One worker process: its buffers, its threads, then a check of everything. */
static int worker(unsigned int proc, size_t hog_size)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	struct thr *thr, fin = { .proc = proc, .idx = g.threads };
	struct buf *hog;
	size_t win = 2 * g.half;
	pthread_t *tid;
	unsigned int i;

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	fork_lock_init();
	for (i = 0; i < ndevs; i++) {
		dev_fds[i] = vramsim_open_device(i);
		if (dev_fds[i] < 0) {
			say("# p%u: no render node of vramsim device %u", proc, i);
			return 2;
		}
	}
	/* The private slots, the shared ones, and the hog. */
	nslots = g.threads * g.bufs + g.shared;
	slots = calloc(nslots + 1, sizeof(*slots));
	thr = calloc(g.threads, sizeof(*thr));
	tid = calloc(g.threads, sizeof(*tid));
	if (!slots || !thr || !tid)
		return 2;
	for (i = 0; i < nslots + 1; i++) {
		struct buf *b = &slots[i];
		size_t cap = i < nslots ? g.cap : hog_size + SZ_4K;

		pthread_mutex_init(&b->lock, NULL);
		b->id = i;
		b->win = (char *)(ARENA_BASE + i * win);
		/* Touched only as far as used: up to the largest buffer. */
		b->shadow = mmap(NULL, cap, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		b->state = calloc(cap >> PG_SHIFT, 1);
		if (b->shadow == MAP_FAILED || !b->state) {
			say("# p%u: out of memory for the shadows", proc);
			return 2;
		}
	}

	fin.c = counters_of(proc, g.threads);
	thr_seed(&fin, g.seed, proc, 0xfffff);
	hog = &slots[nslots];
	if (hog_size) {
		/* Its own window, past the slots'; 2 MiB-aligned, THP, written. */
		snprintf(curop, sizeof(curop), "hog");
		new_hist(&fin, hog, OP_REMAP);
		hog->addr = mmap(hog->win, hog_size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (hog->addr != hog->win || madvise(hog->addr, hog_size, MADV_HUGEPAGE)) {
			api_error(&fin, hog, "hog mmap/madvise: %s", strerror(errno));
			hog_size = 0;
		} else {
			hog->len = hog_size;
			memset(hog->state, P_PRIV, hog_size >> PG_SHIFT);
			write_range(hog, 0, hog_size, rnd(fin.rng), M_PRIV);
		}
	}

	for (i = 0; i < g.threads; i++) {
		thr[i].proc = proc;
		thr[i].idx = i;
		thr[i].c = counters_of(proc, i);
		thr_seed(&thr[i], g.seed, proc, i);
		if (pthread_create(&tid[i], NULL, thread_main, &thr[i])) {
			say("# p%u: pthread_create failed", proc);
			return 2;
		}
	}
	if (hog_size)
		run_hog(&fin, hog);
	for (i = 0; i < g.threads; i++)
		pthread_join(tid[i], NULL);

	/*
	 * The final check of every buffer.  Half of them are unmapped here,
	 * the others (sometimes on the device) by the process's exit.
	 */
	snprintf(curop, sizeof(curop), "final check");
	for (i = 0; i < nslots + 1; i++) {
		struct buf *b = &slots[i];
		uint64_t r = rnd(fin.rng);

		if (!b->len)
			continue;
		new_hist(&fin, b, OP_READ);
		/* Home in one call per 2 MiB: a fault per page takes minutes. */
		migrate_runs(&fin, b, false, 0, b->len);
		verify(&fin, b, 0, b->len, "final check");
		if (r & 1)
			migrate_runs(&fin, b, true, 0, b->len);
		if (i % 2 == 0 && munmap(b->addr, b->len))
			api_error(&fin, b, "munmap: %s", strerror(errno));
	}
	fin.c->done = 1;
	return 0;
}

/* --- The parent: options, workers, totals, invariants ------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vramsim_stress [options]\n"
		"  --procs M       processes (default 2)\n"
		"  --threads N     threads per process (default 2)\n"
		"  --ops K         operations per thread (default 500 without --seconds)\n"
		"  --seconds S     stop after S seconds (with --ops: whichever comes first)\n"
		"  --minutes N     the same as --seconds 60*N\n"
		"  --seed X        random seed (default: from the clock; always printed)\n"
		"  --size [MIN:]MAX buffer sizes, K/M/G suffixes (default 64K:8M)\n"
		"  --bufs P        private buffers per thread (default 2)\n"
		"  --shared S      buffers shared by the threads of a process (default: threads)\n"
		"  --hog SIZE      per process, a THP buffer the main thread moves to the device\n"
		"                  and back, to fill the VRAM (default: device 0's VRAM size\n"
		"                  over the processes; 0: none)\n"
		"  --devices N     use vramsim devices 0..N-1 (default: all there are, which\n"
		"                  is num_devices); migrations to the device pick one at random\n"
		"  --skip OP,...   do a read instead of these operations (to isolate a failure):\n"
		"                  to_dev_4k to_dev_2m to_ram_4k to_ram_2m write remap punch\n"
		"                  mremap mprotect dontneed thp_advise overlay fork\n"
		"  --verbose       print every operation and migration\n"
		"  --fork-serial   let a fork's child exit only while its parent runs\n"
		"                  nothing else (for a kernel without patches/0001)\n"
		"\n"
		"Each thread's random generator is seeded from (seed, process, thread) and\n"
		"draws the same number of values for every operation, so a seed replays\n"
		"each thread's sequence of operations and their parameters.  The\n"
		"interleaving of threads and processes is not replayable, and so neither\n"
		"is the state of shared buffers and VRAM an operation meets (what fits,\n"
		"what a shared buffer holds).  Needs the vramsim module loaded.\n");
}

static int parse_size(const char *s, size_t *out)
{
	const char *units = "KMG";
	unsigned long long v;
	char *end, *u;

	v = strtoull(s, &end, 0);
	if (end == s)
		return -1;
	if (*end) {
		u = strchr(units, *end & ~0x20);
		if (!u || end[1])
			return -1;
		v <<= 10 * (u - units + 1);
	}
	*out = align_up(v, SZ_4K);
	return 0;
}

static int parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "ops", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "minutes", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 'z' },
		{ "bufs", required_argument, NULL, 'b' },
		{ "shared", required_argument, NULL, 'h' },
		{ "hog", required_argument, NULL, 'g' },
		{ "devices", required_argument, NULL, 'd' },
		{ "skip", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "fork-serial", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'H' },
		{ }
	};
	bool seeded = false, shared_set = false;
	char *colon;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			g.procs = strtoul(optarg, NULL, 0);
			break;
		case 't':
			g.threads = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			g.ops = strtoull(optarg, NULL, 0);
			break;
		case 's':
			g.seconds = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			g.seconds = 60 * strtoul(optarg, NULL, 0);
			break;
		case 'S':
			g.seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'z':
			colon = strchr(optarg, ':');
			if (colon) {
				*colon = '\0';
				if (parse_size(optarg, &g.size_min))
					return -1;
				optarg = colon + 1;
			}
			if (parse_size(optarg, &g.size_max))
				return -1;
			break;
		case 'b':
			g.bufs = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			g.shared = strtoul(optarg, NULL, 0);
			shared_set = true;
			break;
		case 'g':
			if (parse_size(optarg, &g.hog))
				return -1;
			g.hog = align_up(g.hog, SZ_2M);
			break;
		case 'd':
			g.devices = strtoul(optarg, NULL, 0);
			if (!g.devices || g.devices > MAX_DEVS)
				return -1;
			break;
		case 'k':
			if (parse_skip(optarg))
				return -1;
			break;
		case 'F':
			g.fork_serial = true;
			break;
		case 'v':
			g.verbose = true;
			break;
		case 'H':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc || !g.procs || !g.threads || !g.bufs ||
	    !g.size_min || g.size_min > g.size_max || g.size_max > (1UL << 30))
		return -1;
	if (!shared_set)
		g.shared = g.threads;
	if (!g.ops && !g.seconds)
		g.ops = 500;
	if (!seeded) {
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = ts.tv_sec * 1000000000ULL + ts.tv_nsec + getpid();
		g.seed = splitmix64(&x) >> 16;
	}
	/* mremap grows buffers up to twice the largest size. */
	g.cap = 2 * g.size_max;
	g.half = align_up(2 * span(), SZ_2M);
	return 0;
}

static uint64_t pages_of(const __u64 *per_order)
{
	uint64_t n = 0;
	int o;

	for (o = 0; o < VRAMSIM_NR_ORDERS; o++)
		n += per_order[o] << o;
	return n;
}

/*
 * Reap the workers.  With a time limit, a run still going long after it
 * (generously: only a hang does that) is killed; the SIGKILL also exercises
 * a fatal signal in the middle of a migration.  Returns false if a worker
 * failed.
 */
static bool reap(const pid_t *pids, unsigned int n, const struct timespec *t0)
{
	uint64_t limit = g.seconds ? t0->tv_sec + 2ULL * g.seconds + 600 : 0;
	unsigned int reaped = 0, j;
	bool ok = true;
	struct timespec t;
	int status;
	pid_t pid;

	while (reaped < n) {
		pid = waitpid(-1, &status, limit ? WNOHANG : 0);
		if (pid == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((uint64_t)t.tv_sec > limit) {
				ksft_print_msg("workers still running at %llu s: killing them\n",
					       (unsigned long long)(t.tv_sec - t0->tv_sec));
				for (j = 0; j < n; j++)
					kill(pids[j], SIGKILL);
				ok = false;
				limit = 0;
			}
			usleep(100000);
			continue;
		}
		if (pid < 0)
			return false;
		reaped++;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			ok = false;
			ksft_print_msg("worker pid %d: %s %d\n", pid,
				       WIFEXITED(status) ? "exit status" : "killed by signal",
				       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
	}
	return ok;
}

/* Add up the threads' counters; false if a thread did not finish. */
static bool sum_counters(struct counters *tot, uint64_t *total_ops)
{
	unsigned int i, j;
	bool ok = true;

	*total_ops = 0;
	for (i = 0; i < g.procs * (g.threads + 1); i++) {
		const struct counters *c = &all_counters[i];
		const uint64_t *from = (const uint64_t *)c;
		uint64_t *to = (uint64_t *)tot;

		/* struct counters is all uint64_t. */
		for (j = 0; j < sizeof(*c) / sizeof(uint64_t); j++)
			to[j] += from[j];
		for (j = 0; j < NR_OPS; j++)
			*total_ops += c->ops[j];
		if (!c->done) {
			ok = false;
			ksft_print_msg("p%u t%u did not finish\n", i / (g.threads + 1),
				       i % (g.threads + 1));
		}
	}
	return ok;
}

static void print_summary(const struct counters *tot, uint64_t total_ops, double secs)
{
	char line[1024];
	unsigned int j;
	int n = 0;

	for (j = 0; j < NR_OPS; j++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%llu", ops[j].name,
			      (unsigned long long)tot->ops[j]);
	ksft_print_msg("summary: seed=%llu ops=%llu secs=%.1f ops_per_s=%.1f%s\n",
		       (unsigned long long)g.seed, (unsigned long long)total_ops, secs,
		       secs > 0 ? total_ops / secs : 0.0, line);
	n = 0;
	for (j = 0; j < NR_OPS; j++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%.1f", ops[j].name,
			      tot->ops[j] ? tot->op_ns[j] / 1e6 / tot->ops[j] : 0.0);
	ksft_print_msg("ms per operation:%s\n", line);
	ksft_print_msg("summary: data_errors=%llu api_errors=%llu child_failures=%llu forks=%llu\n",
		       (unsigned long long)tot->data_errors,
		       (unsigned long long)tot->api_errors,
		       (unsigned long long)tot->child_failures,
		       (unsigned long long)tot->forks);
	ksft_print_msg("summary: vram_full_seen=%llu enospc=%llu short_moves=%llu",
		       (unsigned long long)tot->full_seen,
		       (unsigned long long)tot->enospc,
		       (unsigned long long)tot->short_moves);
	printf(" moved_to_dev_mib=%llu moved_to_ram_mib=%llu\n",
	       (unsigned long long)tot->moved_to_dev >> 20,
	       (unsigned long long)tot->moved_to_ram >> 20);
	ksft_print_msg("summary: shm_einval=%llu hole_efault=%llu mremap_efault=%llu\n",
		       (unsigned long long)tot->shm_einval,
		       (unsigned long long)tot->hole_efault,
		       (unsigned long long)tot->mremap_efault);
	for (j = 0; j < ndevs && ndevs > 1; j++)
		ksft_print_msg("summary: device %u: moved_to_dev_mib=%llu moved_to_ram_mib=%llu\n",
			       j, (unsigned long long)tot->moved_to_dev_on[j] >> 20,
			       (unsigned long long)tot->moved_to_ram_on[j] >> 20);
}

/*
 * Once everything is unmapped: device @dev's VRAM idle and whole, its
 * counters balanced.  Its line for the test point goes to @desc.
 */
static bool check_vram(unsigned int dev, int fd, const struct vramsim_stats *s0,
		       char *desc, size_t size)
{
	struct vramsim_stats s;
	uint64_t alloc_pages, free_pages;
	bool idle = wait_vram_idle(fd, &s);
	unsigned int o;
	char who[16] = "";

	if (!idle && vs_stats(fd, &s))
		memset(&s, 0, sizeof(s));
	if (ndevs > 1)
		snprintf(who, sizeof(who), "device %u: ", dev);
	/* Pieces of a split folio are freed at their own order: count pages. */
	alloc_pages = pages_of(s.allocs);
	free_pages = pages_of(s.frees);
	ksft_print_msg("vram: %sfree=%llu size=%llu pending_frees=%llu live_folios=%llu",
		       who, (unsigned long long)s.vram_free, (unsigned long long)s.vram_size,
		       (unsigned long long)s.pending_frees,
		       (unsigned long long)live_folios(&s));
	printf(" splits=%llu prepare=%u (%u at the start)\n",
	       (unsigned long long)s.splits, s.prepare, s0->prepare);
	ksft_print_msg("vram: %sevictions=%llu evicted_mib=%llu evict_skipped_pages=%llu",
		       who, (unsigned long long)(s.evictions - s0->evictions),
		       (unsigned long long)(s.evicted_bytes - s0->evicted_bytes) >> 20,
		       (unsigned long long)(s.evict_skipped - s0->evict_skipped));
	printf(" peer_mib=%llu\n", (unsigned long long)(s.peer_bytes - s0->peer_bytes) >> 20);
	for (o = 0; o < VRAMSIM_NR_ORDERS; o++)
		if (s.allocs[o] || s.frees[o] || s.live_folios[o])
			ksft_print_msg("vram: %sorder %u: allocs=%llu frees=%llu live=%llu\n",
				       who, o, (unsigned long long)s.allocs[o],
				       (unsigned long long)s.frees[o],
				       (unsigned long long)s.live_folios[o]);
	snprintf(desc, size,
		 "%slive_folios=%llu allocated_pages=%llu freed_pages=%llu vram_free=%llu vram_size=%llu",
		 who, (unsigned long long)live_folios(&s),
		 (unsigned long long)alloc_pages, (unsigned long long)free_pages,
		 (unsigned long long)s.vram_free, (unsigned long long)s.vram_size);
	return idle && !live_folios(&s) && !s.pending_frees &&
	       alloc_pages == free_pages && s.vram_free == s.vram_size &&
	       s.prepare == s0->prepare && s.device == dev;
}

int main(int argc, char **argv)
{
	struct vramsim_stats s0[MAX_DEVS];
	int fds[MAX_DEVS], fd, len;
	char desc[MAX_DEVS][160];
	struct counters tot = { 0 };
	struct timespec t0, t1;
	uint64_t total_ops;
	bool ok = true, idle;
	unsigned int i;
	pid_t *pids;
	double secs;

	if (parse_opts(argc, argv)) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(3);

	/* Devices 0, 1, ... as far as they go (or --devices). */
	for (ndevs = 0; ndevs < (g.devices ?: MAX_DEVS); ndevs++) {
		fd = vramsim_open_device(ndevs);
		if (fd < 0)
			break;
		fds[ndevs] = fd;
		if (!wait_vram_idle(fd, &s0[ndevs]))
			ksft_exit_fail_msg("device %u: VRAM not idle before the run\n", ndevs);
		ksft_print_msg("device %u: vram %llu MiB, prepare=%s\n", ndevs,
			       (unsigned long long)s0[ndevs].vram_size >> 20,
			       vramsim_prepare_name(s0[ndevs].prepare));
	}
	if (!ndevs)
		ksft_exit_fail_msg("no vramsim render node: is the module loaded?\n");
	if (ndevs < g.devices)
		ksft_exit_fail_msg("--devices %u, but there is no device %u\n", g.devices, ndevs);
	if (ndevs > 1)
		ksft_print_msg("%u devices: migrations to the device pick one at random\n", ndevs);
	if (g.hog == ~0UL)
		g.hog = s0[0].vram_size / g.procs / SZ_2M * SZ_2M;
	/* The options that replay this run. */
	ksft_print_msg("vramsim_stress --procs %u --threads %u --ops %llu --seconds %u",
		       g.procs, g.threads, (unsigned long long)g.ops, g.seconds);
	printf(" --seed %llu --size %zuK:%zuK --bufs %u --shared %u --hog %zuK --devices %u",
	       (unsigned long long)g.seed, g.size_min >> 10, g.size_max >> 10,
	       g.bufs, g.shared, g.hog >> 10, ndevs);
	for (i = 0; i < NR_OPS; i++)
		if (g.skip & (1U << i))
			printf("%s%s", g.skip & ((1U << i) - 1) ? "," : " --skip ", ops[i].name);
	printf("\n");

	all_counters = mmap(NULL, sizeof(struct counters) * g.procs * (g.threads + 1),
			    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pids = calloc(g.procs, sizeof(*pids));
	if (all_counters == MAP_FAILED || !pids)
		ksft_exit_fail_msg("out of memory\n");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	g.deadline = t0;
	g.deadline.tv_sec += g.seconds;
	fflush(stdout);
	for (i = 0; i < g.procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			ksft_print_msg("fork: %s\n", strerror(errno));
			ok = false;
			break;
		}
		if (!pids[i])
			_exit(worker(i, g.hog));
	}
	ok &= reap(pids, i, &t0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok &= sum_counters(&tot, &total_ops);
	print_summary(&tot, total_ops, secs);

	if (!tot.moved_to_dev)
		ksft_print_msg("nothing ever moved to the device\n");
	ksft_test_result(ok && !tot.data_errors && !tot.child_failures && tot.moved_to_dev,
			 "stress seed=%llu ops=%llu data_errors=%llu\n",
			 (unsigned long long)g.seed, (unsigned long long)total_ops,
			 (unsigned long long)tot.data_errors);
	ksft_test_result(!tot.api_errors, "documented results: api_errors=%llu\n",
			 (unsigned long long)tot.api_errors);
	/* One test point for all the devices. */
	idle = true;
	for (i = 0; i < ndevs; i++)
		idle &= check_vram(i, fds[i], &s0[i], desc[i], sizeof(desc[i]));
	if (ndevs == 1) {
		ksft_test_result(idle, "vram idle after the run: %s\n", desc[0]);
	} else {
		char all[MAX_DEVS * 170];

		for (i = 0, len = 0; i < ndevs; i++)
			len += snprintf(all + len, sizeof(all) - len, "%s%s", i ? "; " : "",
					desc[i]);
		ksft_test_result(idle, "vram idle after the run on %u devices: %s\n", ndevs, all);
	}
	for (i = 0; i < ndevs; i++)
		close(fds[i]);
	ksft_finished();
}
