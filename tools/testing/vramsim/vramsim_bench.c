// SPDX-License-Identifier: GPL-2.0
/*
 * vramsim_bench: what does freeing device memory cost, per order?
 *
 * Two parts, run in the guest with vramsim (and test_hmm) loaded:
 *
 *  micro  vramsim's in-kernel microbench (debugfs "bench") for each order:
 *         the full free path with prepare=driver and prepare=alloc, the
 *         prepare step alone, the return to the buddy, the raw buddy and
 *         the core's own free, and each path against its floor.
 *  e2e    end to end from userspace, on vramsim and on upstream test_hmm
 *         (/dev/hmm_dmirror0) side by side: migrate an anonymous buffer to
 *         the device, then munmap it, which frees every device folio.
 *         Sizes and iteration counts are those of hmm-tests'
 *         benchmark_thp_migration (512K..256M, 5 iterations + 1 warm-up).
 *
 * Three more, each run on its own (the module loaded to suit it):
 *
 *  --evict    eviction per folio, order 0 and 9, against migrating as many
 *             folios back to RAM (evict=on, a small VRAM)
 *  --oversub  a working set of twice the VRAM, to the device window by
 *             window and read back (evict=on, then evict=off)
 *  --peer     device 0 to device 1 directly vs through RAM (num_devices=2)
 *
 * Every section checks the data it moved and ends the run loudly if a byte
 * is wrong or an ioctl fails; timings never fail it.
 *
 * Output: readable tables on stdout, CSV files with --csv DIR, and a
 * closing summary.  Times are clock_gettime(CLOCK_MONOTONIC) in the guest,
 * or the kernel's ktime for the microbench; in the deterministic guest
 * (-icount shift=0) one nanosecond is one guest instruction.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vramsim_drm.h"
#include "vramsim_lib.h"
#include "test_hmm_uapi.h"

#define SZ_2M		(2UL << 20)
#define PAGE_SZ		4096UL
#define DEBUGFS_BENCH	"/sys/kernel/debug/dri/vramsim/bench"

struct mode {
	const char *name;
	int orders[10];
	int n_orders;
	size_t micro_bytes;
	size_t sizes[8];
	int n_sizes;
	int iterations;
	int evict_iterations;	/* --evict: median of this many */
	int oversub_rounds;	/* --oversub: median of this many rounds */
	size_t peer_bytes;	/* --peer: buffer size */
	int peer_iterations;	/* --peer: median of this many */
};

static const struct mode modes[] = {
	{ "smoke", { 0, 9 }, 2, 4UL << 20,
	  { SZ_2M / 4, SZ_2M }, 2, 1, 1, 1, 4UL << 20, 1 },
	{ "quick", { 0, 4, 9 }, 3, 32UL << 20,
	  { SZ_2M / 4, SZ_2M, 32UL << 20 }, 3, 3, 1, 2, 32UL << 20, 1 },
	/* hmm-tests: PMD/4, PMD/2, 1, 2, 4, 8, 128 PMDs; 5 iterations. */
	{ "full", { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 10, 64UL << 20,
	  { SZ_2M / 4, SZ_2M / 2, SZ_2M, 2 * SZ_2M, 4 * SZ_2M, 8 * SZ_2M,
	    128 * SZ_2M }, 7, 5, 3, 3, 32UL << 20, 3 },
};

static const char *csv_dir;

static void die(const char *what)
{
	fprintf(stderr, "vramsim_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * CSV goes to memory and to disk only at exit: in the deterministic guest,
 * file I/O on the host-backed root during a measurement would let the
 * host's timing into the figures.
 */
struct csv {
	char name[64];
	char *buf;
	size_t len;
	FILE *f;
};

#define MAX_CSVS	8

static struct csv csvs[MAX_CSVS];
static int n_csvs;

static FILE *csv_open(const char *name, const char *cols1, const char *cols2)
{
	struct csv *c;

	if (!csv_dir || n_csvs == MAX_CSVS)
		return NULL;
	c = &csvs[n_csvs++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->f = open_memstream(&c->buf, &c->len);
	if (!c->f)
		die("open_memstream");
	fprintf(c->f, "%s%s\n", cols1, cols2);
	return c->f;
}

static void csv_write_all(void)
{
	char path[1024];
	FILE *f;
	int i;

	for (i = 0; i < n_csvs; i++) {
		fflush(csvs[i].f);
		snprintf(path, sizeof(path), "%s/%s", csv_dir, csvs[i].name);
		f = fopen(path, "w");
		if (!f || fwrite(csvs[i].buf, 1, csvs[i].len, f) != csvs[i].len)
			die(path);
		fclose(f);
	}
}

/* --- micro ---------------------------------------------------------- */

struct micro {
	unsigned long order, count, bytes;
	unsigned long long v[14];
	/* Keys the kernel reported: a kernel has only its own policies' paths. */
	unsigned int have;
};

/*
 * The path of each policy the kernel has (driver and alloc on 7.3 and
 * VARIANT=fix, core on VARIANT=core), then the parts every kernel reports.
 */
static const char * const micro_keys[] = {
	"driver_alloc_ns", "driver_free_ns", "driver_return_ns",
	"alloc_alloc_ns", "alloc_free_ns", "alloc_return_ns",
	"core_alloc_ns", "core_free_ns", "core_return_ns",
	"prepare_ns", "buddy_alloc_ns", "buddy_free_ns", "core_alone_ns",
};

enum {
	S_ALLOC, S_FREE, S_RET, N_ALLOC, N_FREE, N_RET, C_ALLOC, C_FREE, C_RET,
	PREP, B_ALLOC, B_FREE, CORE,
	N_MICRO_KEYS
};

#define MICRO_POLICY_KEYS	C_RET
#define MICRO_POLICIES		3

static int run_micro(int order, size_t bytes, struct micro *m)
{
	char buf[512], *p;
	unsigned long count = bytes / (PAGE_SZ << order);
	int fd, n, i;

	fd = open(DEBUGFS_BENCH, O_RDWR);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d %lu\n", order, count);
	if (write(fd, buf, n) != n) {
		n = -errno;
		close(fd);
		return n;
	}
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';

	memset(m, 0, sizeof(*m));
	if (sscanf(buf, "order=%lu count=%lu bytes=%lu", &m->order, &m->count, &m->bytes) != 3)
		return -EPROTO;
	for (i = 0; i < N_MICRO_KEYS; i++) {
		char key[40];

		snprintf(key, sizeof(key), " %s=", micro_keys[i]);
		p = strstr(buf, key);
		if (!p) {
			if (i <= MICRO_POLICY_KEYS)
				continue;
			return -EPROTO;
		}
		m->v[i] = strtoull(p + strlen(key), NULL, 10);
		m->have |= 1u << i;
	}
	/* A policy's three keys, all or none; at least one policy. */
	for (i = 0; i < MICRO_POLICIES; i++)
		if (((m->have >> (3 * i)) & 7) != 7 && ((m->have >> (3 * i)) & 7) != 0)
			return -EPROTO;
	if (!(m->have & 0777))
		return -EPROTO;
	return 0;
}

static double per(unsigned long long ns, unsigned long count)
{
	return (double)ns / count;
}

static double gibps(size_t bytes, double ns)
{
	return ns > 0 ? (bytes / (double)(1UL << 30)) / (ns / 1e9) : 0;
}

#define MICRO_REPEAT	3

/*
 * The floor of each path, per folio: the core's own free (folio_put() to a
 * ->folio_free that does nothing) and the raw buddy free, plus the bare
 * prepare for driver.  Full path = (free + return) / count.
 */
struct floor_row {
	int order;
	double none, none_floor, scrub, scrub_floor;
};

static struct floor_row floors[10];
static int n_floors;

#define FLOOR_GOAL	1.10

static void micro_floor_table(void)
{
	int i;

	printf("\n## Free path against its floor, per order (goal: %.2fx; informative)\n\n",
	       FLOOR_GOAL);
	printf("ns per folio; alloc floor = core + raw buddy free, ");
	printf("driver floor = core + bare prepare + raw buddy free\n\n");
	printf("| order | alloc  | floor  | alloc/floor | driver | floor  | driver/floor |\n");
	printf("|------:|-------:|-------:|------------:|-------:|-------:|-------------:|\n");
	for (i = 0; i < n_floors; i++) {
		struct floor_row *f = &floors[i];

		printf("| %5d | %6.0f | %6.0f | %10.2fx | %6.0f | %6.0f | %11.2fx |\n",
		       f->order, f->none, f->none_floor, f->none / f->none_floor,
		       f->scrub, f->scrub_floor, f->scrub / f->scrub_floor);
	}
}

static void micro_section(const struct mode *mode, unsigned long long *folios)
{
	FILE *csv = csv_open("micro.csv",
			     "order,count,bytes,path,alloc_ns_per_folio,free_ns_per_folio,",
			     "return_ns_per_folio,free_total_ns_per_folio,folios_per_s,gib_per_s");
	struct micro m;
	int i, err;

	printf("\n## In-kernel free path per order ");
	printf("(%zu MiB per run, best of %d runs, idle VRAM)\n\n",
	       mode->micro_bytes >> 20, MICRO_REPEAT);
	printf("ns per folio; full path = folio_put() (core + ->folio_free) ");
	printf("+ return to the buddy; core = folio_put() to a ->folio_free that does nothing\n\n");
	printf("| order | folios | path          | alloc  | folio_put ");
	printf("| return | full path | folios/s  | GiB/s   |\n");
	printf("|------:|-------:|---------------|-------:|----------:");
	printf("|-------:|----------:|----------:|--------:|\n");
	for (i = 0; i < mode->n_orders; i++) {
		int o = mode->orders[i];
		struct { const char *name; double alloc, free, ret; } rows[6];
		struct floor_row *f;
		int r;

		/*
		 * Best of three: a timer tick or a kernel thread landing in a
		 * run inflates it, never deflates it.
		 */
		for (r = 0; r < MICRO_REPEAT; r++) {
			struct micro one;
			int k;

			err = run_micro(o, mode->micro_bytes, &one);
			if (err) {
				fprintf(stderr, "vramsim_bench: microbench order %d: %s\n",
					o, strerror(-err));
				exit(1);
			}
			/* each policy, bare prepare and core allocate and free folios */
			*folios += (2 + !!(one.have & 7) + !!(one.have & 070) +
				    !!(one.have & 0700)) * one.count;
			if (!r) {
				m = one;
				continue;
			}
			for (k = 0; k < N_MICRO_KEYS; k++)
				if (one.v[k] < m.v[k])
					m.v[k] = one.v[k];
		}
		rows[0].name = "driver";
		rows[0].alloc = per(m.v[S_ALLOC], m.count);
		rows[0].free = per(m.v[S_FREE], m.count);
		rows[0].ret = per(m.v[S_RET], m.count);
		rows[1].name = "alloc";
		rows[1].alloc = per(m.v[N_ALLOC], m.count);
		rows[1].free = per(m.v[N_FREE], m.count);
		rows[1].ret = per(m.v[N_RET], m.count);
		rows[2].name = "core policy";
		rows[2].alloc = per(m.v[C_ALLOC], m.count);
		rows[2].free = per(m.v[C_FREE], m.count);
		rows[2].ret = per(m.v[C_RET], m.count);
		rows[3].name = "bare prepare";
		rows[3].alloc = 0;
		rows[3].free = per(m.v[PREP], m.count);
		rows[3].ret = 0;
		rows[4].name = "raw buddy";
		rows[4].alloc = per(m.v[B_ALLOC], m.count);
		rows[4].free = 0;
		rows[4].ret = per(m.v[B_FREE], m.count);
		rows[5].name = "core";
		rows[5].alloc = 0;
		rows[5].free = per(m.v[CORE], m.count);
		rows[5].ret = 0;
		for (r = 0; r < 6; r++) {
			double full = rows[r].free + rows[r].ret;

			/* A policy this kernel does not have. */
			if (r < MICRO_POLICIES && !(m.have & (7u << (3 * r))))
				continue;
			printf("| %5d | %6lu | %-13s | %6.0f | %9.0f ",
			       o, m.count, rows[r].name, rows[r].alloc, rows[r].free);
			printf("| %6.0f | %9.0f | %9.0f | %7.2f |\n",
			       rows[r].ret, full, 1e9 / full,
			       gibps(PAGE_SZ << o, full));
			if (csv)
				fprintf(csv, "%d,%lu,%lu,%s,%.1f,%.1f,%.1f,%.1f,%.0f,%.3f\n",
					o, m.count, m.bytes, rows[r].name, rows[r].alloc,
					rows[r].free, rows[r].ret, full, 1e9 / full,
					gibps(PAGE_SZ << o, full));
		}
		/* The floors are those of driver and alloc (not on VARIANT=core). */
		if ((m.have & 077) != 077)
			continue;
		f = &floors[n_floors++];
		f->order = o;
		f->none = rows[1].free + rows[1].ret;
		f->none_floor = rows[5].free + rows[4].ret;
		f->scrub = rows[0].free + rows[0].ret;
		f->scrub_floor = rows[5].free + rows[3].free + rows[4].ret;
	}
	if (n_floors)
		micro_floor_table();
}

/* --- e2e ------------------------------------------------------------- */

static int vramsim_fd = -1, hmm_fd = -1;

static void bench_stats(struct vramsim_stats *s)
{
	errno = -vs_stats(vramsim_fd, s);
	if (errno)
		die("the vramsim device's debugfs stats");
}

static unsigned long long vs_folio_events(unsigned long long *frees)
{
	struct vramsim_stats s;
	unsigned long long a = 0, f = 0;
	int i;

	bench_stats(&s);
	for (i = 0; i < VRAMSIM_NR_ORDERS; i++) {
		a += s.allocs[i];
		f += s.frees[i];
	}
	*frees = f;
	return a;
}

static char *map_buffer(size_t len, bool thp)
{
	char *a = vramsim_map_aligned(len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);

	if (!a)
		die("mmap");
	memset(a, 0xa5, len);
	return a;
}

/* One trip: migrate to the device, then free by munmap.  Times in ns. */
static void trip(bool hmm, size_t len, bool thp, double *to_dev, double *free_ns,
		 double *settle)
{
	char *buf = map_buffer(len, thp);
	static char *mirror;
	static size_t mirror_len;
	double t0, t1, t2, t3;

	/*
	 * test_hmm's MIGRATE_TO_DEV also copies what it migrated into a
	 * mirror buffer for verification; hmm-tests times it that way too.
	 */
	if (hmm && mirror_len < len) {
		free(mirror);
		mirror = malloc(len);
		if (!mirror)
			die("malloc");
		memset(mirror, 0, len);
		mirror_len = len;
	}

	t0 = now_ns();
	if (hmm) {
		struct hmm_dmirror_cmd cmd = {
			.addr = (uintptr_t)buf,
			.ptr = (uintptr_t)mirror,
			.npages = len / PAGE_SZ,
		};

		if (ioctl(hmm_fd, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd))
			die("HMM_DMIRROR_MIGRATE_TO_DEV");
		if (cmd.cpages != len / PAGE_SZ) {
			fprintf(stderr, "vramsim_bench: test_hmm moved %llu of %zu pages\n",
				(unsigned long long)cmd.cpages, len / PAGE_SZ);
			exit(1);
		}
	} else {
		struct drm_vramsim_migrate m = {
			.start = (uintptr_t)buf,
			.length = len,
		};

		if (ioctl(vramsim_fd, DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE, &m))
			die("DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE");
		if (m.moved != len) {
			fprintf(stderr, "vramsim_bench: vramsim moved %llu of %zu bytes\n",
				(unsigned long long)m.moved, len);
			exit(1);
		}
	}
	t1 = now_ns();
	munmap(buf, len);
	t2 = now_ns();
	/*
	 * vramsim returns blocks from a worker: wait until the VRAM is whole
	 * (free bytes count no pending free: all free is none pending).
	 */
	if (!hmm) {
		struct drm_vramsim_query q;

		do {
			if (vs_query(vramsim_fd, &q))
				die("DRM_IOCTL_VRAMSIM_QUERY");
		} while (q.vram_free != q.vram_size);
	}
	t3 = now_ns();
	*to_dev = t1 - t0;
	*free_ns = t2 - t1;
	*settle = t3 - t2;
}

struct e2e_row {
	double to_dev, free, settle, total;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * One warm-up trip, then the median of @iterations (hmm-tests reports the
 * mean; the median keeps one disturbed trip from moving the figure).  The
 * throughput comes from the median of munmap + settle, not from the sum of
 * the two medians.
 */
static void e2e_measure(bool hmm, size_t len, bool thp, int iterations,
			struct e2e_row *r)
{
	double to_dev[16], total[16], settle[16], free_only[16];
	double a, b, c;
	int i;

	trip(hmm, len, thp, &a, &b, &c);
	for (i = 0; i < iterations; i++) {
		trip(hmm, len, thp, &a, &b, &c);
		to_dev[i] = a;
		free_only[i] = b;
		settle[i] = c;
		total[i] = b + c;
	}
	r->to_dev = median(to_dev, iterations);
	r->free = median(free_only, iterations);
	r->settle = median(settle, iterations);
	r->total = median(total, iterations);
}

static double e2e_256m_free[2][2];	/* [hmm][thp] GiB/s of the largest size */

static void e2e_section(const struct mode *mode)
{
	FILE *csv = csv_open("e2e.csv",
			     "size_bytes,thp,driver,to_dev_ms,to_dev_gib_per_s,free_ms,",
			     "settle_ms,free_total_ms,free_gib_per_s");
	int s, t, d;

	printf("\n## End to end: migrate to the device, then munmap ");
	printf("(median of %d, after 1 warm-up)\n\n", mode->iterations);
	printf("free = munmap (core frees every device folio); vramsim adds settle: until\n");
	printf("its worker has returned every block to the buddy\n\n");
	printf("| size    | THP | driver   | to-dev ms | to-dev GiB/s ");
	printf("| free ms | settle ms | free GiB/s |\n");
	printf("|--------:|:---:|----------|----------:|-------------:");
	printf("|--------:|----------:|-----------:|\n");
	for (s = 0; s < mode->n_sizes; s++) {
		size_t len = mode->sizes[s];

		for (t = 1; t >= 0; t--) {
			for (d = 0; d < 2; d++) {
				bool hmm = d == 1;
				struct e2e_row r;
				double free_total;

				if (hmm && hmm_fd < 0)
					continue;
				e2e_measure(hmm, len, t, mode->iterations, &r);
				free_total = r.total;
				printf("| %5zu%s | %-3s | %-8s | %9.3f ",
				       len >= (1UL << 20) ? len >> 20 : len >> 10,
				       len >= (1UL << 20) ? "M" : "K", t ? "on" : "off",
				       hmm ? "test_hmm" : "vramsim", r.to_dev / 1e6);
				printf("| %12.2f | %7.3f | %9.3f | %10.2f |\n",
				       gibps(len, r.to_dev), r.free / 1e6, r.settle / 1e6,
				       gibps(len, free_total));
				if (csv)
					fprintf(csv, "%zu,%d,%s,%.4f,%.3f,%.4f,%.4f,%.4f,%.3f\n",
						len, t, hmm ? "test_hmm" : "vramsim",
						r.to_dev / 1e6, gibps(len, r.to_dev),
						r.free / 1e6, r.settle / 1e6,
						free_total / 1e6, gibps(len, free_total));
				if (s == mode->n_sizes - 1)
					e2e_256m_free[hmm][t] = gibps(len, free_total);
			}
		}
	}
}

/* --- evict, oversub, peer: helpers -------------------------------- */

/*
 * vs_migrate() of [@a, @a + @len) that must succeed and move @want bytes;
 * anything else ends the run.  Returns the ns it took.
 */
static double migrate_exact(int fd, unsigned long req, void *a, size_t len,
			    size_t want, const char *what)
{
	__u64 moved = 0;
	double t0 = now_ns(), t1;
	int err = vs_migrate(fd, req, a, len, &moved);

	t1 = now_ns();
	if (err || moved != want) {
		fprintf(stderr, "vramsim_bench: %s: %s, moved %llu bytes, expected %zu\n",
			what, err ? strerror(-err) : "no error",
			(unsigned long long)moved, want);
		exit(1);
	}
	return t1 - t0;
}

/* Every word of @buf must hold its pattern, or the run ends loudly. */
static void verify(const void *buf, size_t len, __u64 salt, const char *what)
{
	long bad = check(buf, len, salt);

	if (bad >= 0) {
		fprintf(stderr, "vramsim_bench: DATA CORRUPTED: %s, word %ld at offset %#lx: ",
			what, bad, bad * 8);
		fprintf(stderr, "%#llx, expected %#llx\n",
			(unsigned long long)((const __u64 *)buf)[bad],
			(unsigned long long)((bad * 8) ^ salt));
		exit(1);
	}
}

/* Wait until every block of @fd's VRAM is back in its buddy. */
static void vram_idle(int fd, struct vramsim_stats *s)
{
	if (!wait_vram_idle(fd, s)) {
		fprintf(stderr, "vramsim_bench: the VRAM did not become whole again\n");
		exit(1);
	}
}

static void stats_of(int fd, struct vramsim_stats *s)
{
	errno = -vs_stats(fd, s);
	if (errno)
		die("the vramsim device's debugfs stats");
}

static char *map_pattern(size_t len, bool thp, __u64 salt)
{
	char *a = vramsim_map_aligned(len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);

	if (!a)
		die("mmap");
	fill(a, len, salt);
	return a;
}

/* --- evict ------------------------------------------------------------ */

/*
 * Eviction per folio, for order 0 (THP off) and 9 (THP on), on a VRAM of V
 * bytes (the module loaded with evict=on and a small vram_size):
 *   warm-up buffer B (V bytes) to the device and back
 *   to RAM  buffer A (V bytes) to the device, then back with
 *           DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM: this step is timed
 *   empty   B to the device, into an empty VRAM (timed), and back
 *   evict   A to the device again (the VRAM is full), then B, which must
 *           evict all of A: this step is timed
 * eviction per folio = (evict - empty) / evicted folios (evicted_bytes of
 * the stats / folio size); both buffers must read back intact.
 */
static void evict_section(const struct mode *mode)
{
	FILE *csv = csv_open("evict.csv",
			     "order,vram_bytes,folios,empty_ms,evict_ms,evicted_bytes,",
			     "evict_ns_per_folio,evict_gib_per_s,to_ram_ms,to_ram_ns_per_folio,ratio");
	static const int orders[] = { 0, 9 };
	struct vramsim_stats s0, s1;
	char param[16];
	size_t vram;
	int i, it, n = mode->evict_iterations;

	if (read_param("evict", param, sizeof(param)) || param[0] != 'Y') {
		fprintf(stderr, "vramsim_bench: --evict needs vramsim loaded with evict=on\n");
		exit(1);
	}
	stats_of(vramsim_fd, &s0);
	vram = s0.vram_size;
	printf("\n## Eviction per folio (%zu MiB VRAM, evict=on, prepare=%s, median of %d)\n\n",
	       vram >> 20, vramsim_prepare_name(s0.prepare), n);
	printf("evict = time to migrate B (VRAM-sized) to the device while A fills the VRAM,\n");
	printf("minus the time to migrate B into an empty VRAM, per evicted folio;\n");
	printf("to RAM = DRM_IOCTL_VRAMSIM_MIGRATE_TO_RAM of A (as many folios), per folio\n\n");
	printf("| order | folios | empty ms | evict ms | evict ns/folio | evict GiB/s ");
	printf("| to RAM ns/folio | evict / to RAM |\n");
	printf("|------:|-------:|---------:|---------:|---------------:|------------:");
	printf("|----------------:|---------------:|\n");
	for (i = 0; i < 2; i++) {
		int o = orders[i];
		size_t fsz = PAGE_SZ << o, folios = vram / fsz;
		double empty[16], evict[16], to_ram[16], e_ns, r_ns, e, t, r;
		unsigned long long evicted = 0;
		char *a = map_pattern(vram, o == 9, 0xa0a0 + o);
		char *b = map_pattern(vram, o == 9, 0xb0b0 + o);

		for (it = 0; it < n; it++) {
			/* Each buffer once to the device and back: both warm. */
			vram_idle(vramsim_fd, &s0);
			migrate_exact(vramsim_fd, VRAMSIM_TO_DEV, b, vram, vram, "B to the device");
			stats_of(vramsim_fd, &s1);
			if (s1.live_folios[o] * fsz != vram)
				printf("note: order %d: B is in %llu folios of order %d, not %zu\n",
				       o, (unsigned long long)s1.live_folios[o], o, folios);
			migrate_exact(vramsim_fd, VRAMSIM_TO_RAM, b, vram, vram, "B to RAM");
			vram_idle(vramsim_fd, &s0);
			migrate_exact(vramsim_fd, VRAMSIM_TO_DEV, a, vram, vram, "A to the device");
			to_ram[it] = migrate_exact(vramsim_fd, VRAMSIM_TO_RAM, a, vram, vram,
						   "A to RAM");
			vram_idle(vramsim_fd, &s0);
			empty[it] = migrate_exact(vramsim_fd, VRAMSIM_TO_DEV, b, vram, vram,
						  "B to an empty VRAM");
			migrate_exact(vramsim_fd, VRAMSIM_TO_RAM, b, vram, vram, "B to RAM");
			vram_idle(vramsim_fd, &s0);
			migrate_exact(vramsim_fd, VRAMSIM_TO_DEV, a, vram, vram, "A to the device");
			stats_of(vramsim_fd, &s0);
			evict[it] = migrate_exact(vramsim_fd, VRAMSIM_TO_DEV, b, vram, vram,
						  "B to a VRAM full of A");
			stats_of(vramsim_fd, &s1);
			evicted = s1.evicted_bytes - s0.evicted_bytes;
			if (evicted != vram || s1.evict_skipped != s0.evict_skipped) {
				fprintf(stderr, "vramsim_bench: B evicted %llu bytes of A ",
					evicted);
				fprintf(stderr, "(%llu pages skipped), expected %zu\n",
					(unsigned long long)(s1.evict_skipped - s0.evict_skipped),
					vram);
				exit(1);
			}
			verify(a, vram, 0xa0a0 + o, "evicted buffer A");
			verify(b, vram, 0xb0b0 + o, "buffer B, in VRAM after evicting A");
		}
		vram_idle(vramsim_fd, &s0);
		munmap(a, vram);
		munmap(b, vram);
		e = median(evict, n);
		t = median(empty, n);
		r = median(to_ram, n);
		e_ns = (e - t) / (evicted / fsz);
		r_ns = r / folios;
		printf("| %5d | %6zu | %8.3f | %8.3f | %14.0f | %11.2f | %15.0f | %13.2fx |\n",
		       o, folios, t / 1e6, e / 1e6, e_ns, gibps(evicted, e - t), r_ns,
		       e_ns / r_ns);
		if (csv)
			fprintf(csv, "%d,%zu,%zu,%.4f,%.4f,%llu,%.1f,%.3f,%.4f,%.1f,%.3f\n",
				o, vram, folios, t / 1e6, e / 1e6, evicted, e_ns,
				gibps(evicted, e - t), r / 1e6, r_ns, e_ns / r_ns);
	}
}

/* --- oversub ----------------------------------------------------------- */

#define OVERSUB_WINDOWS	8

/*
 * A working set of twice the VRAM, migrated to the device window by window
 * (8 windows of a quarter of the VRAM), then read back whole on the CPU
 * (which faults home whatever is on the device), a few rounds.  With
 * evict=on the later windows evict the earlier ones and everything moves;
 * with evict=off only what fits moves, the rest is refused (-ENOSPC).
 */
static void oversub_section(const struct mode *mode)
{
	char param[16], name[32];
	bool evict_on;
	FILE *csv;
	struct vramsim_stats s;
	size_t vram, ws, win;
	int t, r, w, n = mode->oversub_rounds;

	if (read_param("evict", param, sizeof(param)))
		die("/sys/module/vramsim/parameters/evict");
	evict_on = param[0] == 'Y';
	snprintf(name, sizeof(name), "oversub-evict-%s.csv", evict_on ? "on" : "off");
	csv = csv_open(name, "evict,thp,ws_bytes,vram_bytes,moved_bytes,migrate_ms,",
		       "migrate_gib_per_s,read_ms,round_gib_per_s");
	stats_of(vramsim_fd, &s);
	vram = s.vram_size;
	ws = 2 * vram;
	win = ws / OVERSUB_WINDOWS;
	printf("\n## Oversubscribed: %zu MiB working set on %zu MiB VRAM, evict=%s ",
	       ws >> 20, vram >> 20, evict_on ? "on" : "off");
	printf("(median of %d rounds)\n\n", n);
	printf("a round: migrate to the device in %d windows of %zu MiB, then read it all ",
	       OVERSUB_WINDOWS, win >> 20);
	printf("on the CPU;\nmoved = bytes the ioctls moved per round; migrate GiB/s = ");
	printf("moved / migrate time; round GiB/s = working set / round time\n\n");
	printf("| THP | evict | moved MiB | migrate ms | migrate GiB/s ");
	printf("| read ms | round GiB/s |\n");
	printf("|:---:|:-----:|----------:|-----------:|--------------:");
	printf("|--------:|------------:|\n");
	for (t = 1; t >= 0; t--) {
		double mig[16], rd[16], m, rr;
		unsigned long long moved = 0;
		char *buf = map_pattern(ws, t, 0x0505 + t);

		for (r = 0; r < n; r++) {
			double t0, t1, t2;

			vram_idle(vramsim_fd, &s);
			moved = 0;
			t0 = now_ns();
			for (w = 0; w < OVERSUB_WINDOWS; w++) {
				__u64 mv = 0;
				int err = vs_migrate(vramsim_fd, VRAMSIM_TO_DEV, buf + w * win,
						     win, &mv);

				if (err && !(err == -ENOSPC && !evict_on)) {
					errno = -err;
					die("DRM_IOCTL_VRAMSIM_MIGRATE_TO_DEVICE");
				}
				moved += mv;
			}
			t1 = now_ns();
			verify(buf, ws, 0x0505 + t, "oversubscribed working set");
			t2 = now_ns();
			mig[r] = t1 - t0;
			rd[r] = t2 - t1;
		}
		vram_idle(vramsim_fd, &s);
		munmap(buf, ws);
		m = median(mig, n);
		rr = median(rd, n);
		printf("| %-3s | %-5s | %9llu | %10.3f | %13.2f | %7.3f | %11.2f |\n",
		       t ? "on" : "off", evict_on ? "on" : "off", moved >> 20, m / 1e6,
		       gibps(moved, m), rr / 1e6, gibps(ws, m + rr));
		if (csv)
			fprintf(csv, "%s,%d,%zu,%zu,%llu,%.4f,%.3f,%.4f,%.3f\n",
				evict_on ? "on" : "off", t, ws, vram, moved, m / 1e6,
				gibps(moved, m), rr / 1e6, gibps(ws, m + rr));
	}
}

/* --- peer --------------------------------------------------------------- */

/*
 * A buffer on device 0 moves to device 1: directly (MIGRATE_TO_DEVICE on
 * device 1; device 1's peer_bytes grows by the buffer), or through RAM
 * (MIGRATE_TO_RAM on device 0, then MIGRATE_TO_DEVICE on device 1;
 * peer_bytes does not grow).  The data must read back each time.
 */
static void peer_section(const struct mode *mode)
{
	FILE *csv = csv_open("peer.csv", "thp,bytes,path,ms,gib_per_s,",
			     "peer_bytes");
	struct vramsim_stats s0, s1;
	size_t len = mode->peer_bytes;
	int fd1 = vramsim_open_device(1), t, it, n = mode->peer_iterations;

	if (fd1 < 0) {
		fprintf(stderr, "vramsim_bench: --peer needs vramsim loaded with num_devices=2\n");
		exit(1);
	}
	printf("\n## Device to device: %zu MiB from device 0 to device 1 (median of %d)\n\n",
	       len >> 20, n);
	printf("direct = MIGRATE_TO_DEVICE on device 1 (peer copy); via RAM = ");
	printf("MIGRATE_TO_RAM on device 0 + MIGRATE_TO_DEVICE on device 1\n\n");
	printf("| THP | path    | ms       | GiB/s   | peer_bytes | via RAM / direct |\n");
	printf("|:---:|---------|---------:|--------:|-----------:|-----------------:|\n");
	for (t = 1; t >= 0; t--) {
		double direct[16], via[16], d, v;
		unsigned long long peer[2] = { 0, 0 };
		char *buf = map_pattern(len, t, 0xd2d0 + t);
		int p;

		for (it = 0; it < n; it++) {
			for (p = 0; p < 2; p++) {
				double ns;

				vram_idle(vramsim_fd, &s0);
				vram_idle(fd1, &s0);
				migrate_exact(vramsim_fd, VRAMSIM_TO_DEV, buf, len, len,
					      "to device 0");
				stats_of(fd1, &s0);
				if (!p) {
					ns = migrate_exact(fd1, VRAMSIM_TO_DEV, buf, len, len,
							   "device 0 to device 1, directly");
				} else {
					ns = migrate_exact(vramsim_fd, VRAMSIM_TO_RAM, buf, len,
							   len, "device 0 to RAM");
					ns += migrate_exact(fd1, VRAMSIM_TO_DEV, buf, len, len,
							    "RAM to device 1");
				}
				stats_of(fd1, &s1);
				peer[p] = s1.peer_bytes - s0.peer_bytes;
				if (peer[p] != (p ? 0 : len)) {
					fprintf(stderr, "vramsim_bench: %s: ",
						p ? "via RAM" : "direct");
					fprintf(stderr, "device 1's peer_bytes grew by %llu, ",
						peer[p]);
					fprintf(stderr, "expected %zu\n", p ? 0 : len);
					exit(1);
				}
				verify(buf, len, 0xd2d0 + t,
				       p ? "buffer moved through RAM" : "buffer moved directly");
				if (p)
					via[it] = ns;
				else
					direct[it] = ns;
			}
		}
		vram_idle(vramsim_fd, &s0);
		vram_idle(fd1, &s0);
		munmap(buf, len);
		d = median(direct, n);
		v = median(via, n);
		printf("| %-3s | direct  | %8.3f | %7.2f | %10llu |                  |\n",
		       t ? "on" : "off", d / 1e6, gibps(len, d), peer[0]);
		printf("| %-3s | via RAM | %8.3f | %7.2f | %10llu | %15.2fx |\n",
		       t ? "on" : "off", v / 1e6, gibps(len, v), peer[1], v / d);
		if (csv) {
			fprintf(csv, "%d,%zu,direct,%.4f,%.3f,%llu\n", t, len, d / 1e6,
				gibps(len, d), peer[0]);
			fprintf(csv, "%d,%zu,via_ram,%.4f,%.3f,%llu\n", t, len, v / 1e6,
				gibps(len, v), peer[1]);
		}
	}
	close(fd1);
}

static void help(void)
{
	fputs("vramsim_bench [--smoke|--quick|--full] [--csv DIR]\n", stderr);
	fputs("              [--no-micro] [--no-e2e] [--no-hmm] [--evict] [--oversub] [--peer]\n",
	      stderr);
	fputs("  --smoke   tiny sizes: checks the tool works (make test)\n", stderr);
	fputs("  --quick   a short run (make run)\n", stderr);
	fputs("  --full    every order, hmm-tests' sizes and iterations (make bench; default)\n",
	      stderr);
	fputs("  --evict   only eviction per folio (vramsim loaded with evict=on, small VRAM)\n",
	      stderr);
	fputs("  --oversub only a working set of twice the VRAM (evict=on or off)\n", stderr);
	fputs("  --peer    only device 0 to device 1, direct vs through RAM (num_devices=2)\n",
	      stderr);
	fputs("Needs vramsim loaded and debugfs mounted; test_hmm for the comparison.\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "smoke", no_argument, NULL, 's' },
		{ "quick", no_argument, NULL, 'q' },
		{ "full", no_argument, NULL, 'f' },
		{ "csv", required_argument, NULL, 'c' },
		{ "no-micro", no_argument, NULL, 'M' },
		{ "no-e2e", no_argument, NULL, 'E' },
		{ "no-hmm", no_argument, NULL, 'H' },
		{ "evict", no_argument, NULL, 'V' },
		{ "oversub", no_argument, NULL, 'O' },
		{ "peer", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct mode *mode = &modes[2];
	bool micro = true, e2e = true, hmm = true;
	bool evict = false, oversub = false, peer = false;
	unsigned long long a0, f0, a1, f1, micro_folios = 0;
	struct vramsim_stats st;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			mode = &modes[0];
			break;
		case 'q':
			mode = &modes[1];
			break;
		case 'f':
			mode = &modes[2];
			break;
		case 'c':
			csv_dir = optarg;
			break;
		case 'M':
			micro = false;
			break;
		case 'E':
			e2e = false;
			break;
		case 'H':
			hmm = false;
			break;
		case 'V':
			evict = true;
			break;
		case 'O':
			oversub = true;
			break;
		case 'P':
			peer = true;
			break;
		default:
			help();
		}
	}

	/* The sections of their own run alone. */
	if (evict || oversub || peer) {
		micro = false;
		e2e = false;
	}

	/*
	 * Fault in the program and its libraries now, not during the timed
	 * runs (the guest's root is a host filesystem over virtio-9p).
	 */
	if (mlockall(MCL_CURRENT) == 0)
		munlockall();

	vramsim_fd = vramsim_open_render_node();
	if (vramsim_fd < 0) {
		fprintf(stderr, "vramsim_bench: no vramsim render node: modprobe vramsim first\n");
		return 1;
	}
	if (hmm && e2e) {
		hmm_fd = open("/dev/hmm_dmirror0", O_RDWR | O_CLOEXEC);
		if (hmm_fd < 0)
			puts("note: no /dev/hmm_dmirror0 (modprobe test_hmm): vramsim only");
	}
	bench_stats(&st);
	printf("# vramsim_bench --%s: %llu MiB VRAM, prepare=%s (device default)\n",
	       mode->name, (unsigned long long)st.vram_size >> 20,
	       vramsim_prepare_name(st.prepare));
	a0 = vs_folio_events(&f0);

	if (micro)
		micro_section(mode, &micro_folios);
	if (e2e)
		e2e_section(mode);
	if (evict)
		evict_section(mode);
	if (oversub)
		oversub_section(mode);
	if (peer)
		peer_section(mode);

	a1 = vs_folio_events(&f1);
	printf("\n## Summary\n\n");
	/*
	 * The microbench runs on a private VRAM instance, which the device's
	 * counters do not see; the tracepoints fire for both.
	 */
	printf("folios allocated: %llu, freed: %llu ", a1 - a0 + micro_folios,
	       f1 - f0 + micro_folios);
	printf("(the device's counters plus the microbench's private VRAM;\n");
	printf("perf's vramsim:vramsim_folio_alloc and vramsim:vramsim_folio_free ");
	printf("count the same events), of which the microbench: %llu\n", micro_folios);
	if (e2e && hmm_fd >= 0) {
		printf("largest size, free incl. settle: vramsim %.2f vs test_hmm %.2f GiB/s ",
		       e2e_256m_free[0][1], e2e_256m_free[1][1]);
		printf("(THP on), %.2f vs %.2f (THP off)\n",
		       e2e_256m_free[0][0], e2e_256m_free[1][0]);
	}
	if (csv_dir)
		csv_write_all();
	return 0;
}
