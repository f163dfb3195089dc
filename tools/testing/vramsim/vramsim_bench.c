// SPDX-License-Identifier: GPL-2.0
/*
 * vramsim_bench: what does freeing device memory cost, per order?
 *
 * Two parts, run in the guest with vramsim (and test_hmm) loaded:
 *
 *  micro  vramsim's in-kernel microbench (debugfs "bench") for each order:
 *         the full free path with prepare=scrub and prepare=none, the
 *         prepare step alone, the return to the buddy, and the raw buddy.
 *  e2e    end to end from userspace, on vramsim and on upstream test_hmm
 *         (/dev/hmm_dmirror0) side by side: migrate an anonymous buffer to
 *         the device, then munmap it, which frees every device folio.
 *         Sizes and iteration counts are those of hmm-tests'
 *         benchmark_thp_migration (512K..256M, 5 iterations + 1 warm-up).
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
};

static const struct mode modes[] = {
	{ "smoke", { 0, 9 }, 2, 4UL << 20,
	  { SZ_2M / 4, SZ_2M }, 2, 1 },
	{ "quick", { 0, 4, 9 }, 3, 32UL << 20,
	  { SZ_2M / 4, SZ_2M, 32UL << 20 }, 3, 3 },
	/* hmm-tests: PMD/4, PMD/2, 1, 2, 4, 8, 128 PMDs; 5 iterations. */
	{ "full", { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 10, 64UL << 20,
	  { SZ_2M / 4, SZ_2M / 2, SZ_2M, 2 * SZ_2M, 4 * SZ_2M, 8 * SZ_2M,
	    128 * SZ_2M }, 7, 5 },
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

static struct csv csvs[4];
static int n_csvs;

static FILE *csv_open(const char *name, const char *cols1, const char *cols2)
{
	struct csv *c;

	if (!csv_dir || n_csvs == 4)
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
	char path[512];
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
	unsigned long long v[11];
};

static const char * const micro_keys[] = {
	"scrub_alloc_ns", "scrub_free_ns", "scrub_return_ns",
	"none_alloc_ns", "none_free_ns", "none_return_ns",
	"prepare_ns", "buddy_alloc_ns", "buddy_free_ns",
};

enum { S_ALLOC, S_FREE, S_RET, N_ALLOC, N_FREE, N_RET, PREP, B_ALLOC, B_FREE };

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
	for (i = 0; i < 9; i++) {
		char key[40];

		snprintf(key, sizeof(key), " %s=", micro_keys[i]);
		p = strstr(buf, key);
		if (!p)
			return -EPROTO;
		m->v[i] = strtoull(p + strlen(key), NULL, 10);
	}
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
	printf("+ return to the buddy\n\n");
	printf("| order | folios | path          | alloc  | folio_put ");
	printf("| return | full path | folios/s  | GiB/s   |\n");
	printf("|------:|-------:|---------------|-------:|----------:");
	printf("|-------:|----------:|----------:|--------:|\n");
	for (i = 0; i < mode->n_orders; i++) {
		int o = mode->orders[i];
		struct { const char *name; double alloc, free, ret; } rows[4];
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
			*folios += 3 * one.count;
			if (!r) {
				m = one;
				continue;
			}
			for (k = 0; k < 9; k++)
				if (one.v[k] < m.v[k])
					m.v[k] = one.v[k];
		}
		rows[0].name = "scrub";
		rows[0].alloc = per(m.v[S_ALLOC], m.count);
		rows[0].free = per(m.v[S_FREE], m.count);
		rows[0].ret = per(m.v[S_RET], m.count);
		rows[1].name = "none";
		rows[1].alloc = per(m.v[N_ALLOC], m.count);
		rows[1].free = per(m.v[N_FREE], m.count);
		rows[1].ret = per(m.v[N_RET], m.count);
		rows[2].name = "bare prepare";
		rows[2].alloc = 0;
		rows[2].free = per(m.v[PREP], m.count);
		rows[2].ret = 0;
		rows[3].name = "raw buddy";
		rows[3].alloc = per(m.v[B_ALLOC], m.count);
		rows[3].free = 0;
		rows[3].ret = per(m.v[B_FREE], m.count);
		for (r = 0; r < 4; r++) {
			double full = rows[r].free + rows[r].ret;

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
	}
}

/* --- e2e ------------------------------------------------------------- */

static int vramsim_fd = -1, hmm_fd = -1;

static void bench_stats(struct drm_vramsim_stats *s)
{
	if (ioctl(vramsim_fd, DRM_IOCTL_VRAMSIM_STATS, s))
		die("DRM_IOCTL_VRAMSIM_STATS");
}

static unsigned long long vs_folio_events(unsigned long long *frees)
{
	struct drm_vramsim_stats s;
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
	/* vramsim returns blocks from a worker: wait until the VRAM is whole. */
	if (!hmm) {
		struct drm_vramsim_stats s;

		do {
			bench_stats(&s);
		} while (s.pending_frees || s.vram_free != s.vram_size);
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

static void help(void)
{
	fputs("vramsim_bench [--smoke|--quick|--full] [--csv DIR]\n", stderr);
	fputs("              [--no-micro] [--no-e2e] [--no-hmm]\n", stderr);
	fputs("  --smoke   tiny sizes: checks the tool works (make test)\n", stderr);
	fputs("  --quick   a short run (make run)\n", stderr);
	fputs("  --full    every order, hmm-tests' sizes and iterations (make bench; default)\n",
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
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const struct mode *mode = &modes[2];
	bool micro = true, e2e = true, hmm = true;
	unsigned long long a0, f0, a1, f1, micro_folios = 0;
	struct drm_vramsim_stats st;
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
		default:
			help();
		}
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
	       st.prepare ? "none" : "scrub");
	a0 = vs_folio_events(&f0);

	if (micro)
		micro_section(mode, &micro_folios);
	if (e2e)
		e2e_section(mode);

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
