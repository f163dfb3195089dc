// SPDX-License-Identifier: GPL-2.0
/*
 * Load a module with the n-th fault-injected call of this thread failing,
 * for vramsim_module_test.sh's sweep of vramsim_init()'s allocations:
 *
 *   vramsim_modload N MODULE.ko [PARAMS]
 *
 * Writes N to /proc/thread-self/fail-nth, calls finit_module(), and prints
 * "errno E left L": E the load's errno (0: loaded), L what is left of the
 * count (not 0: fewer than N calls were counted, so the load went past
 * every one the fault attributes' filters let through).  Exit status 0
 * once that is printed, 1 on a usage or set-up error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int write_nth(const char *val)
{
	int f = open("/proc/thread-self/fail-nth", O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (f < 0)
		return -1;
	n = write(f, val, strlen(val));
	close(f);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

int main(int argc, char **argv)
{
	char left[32] = "?";
	int fd, f, err = 0;
	ssize_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: %s N MODULE.ko [PARAMS]\n", argv[0]);
		return 1;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (write_nth(argv[1])) {
		perror("/proc/thread-self/fail-nth");
		return 1;
	}
	if (syscall(SYS_finit_module, fd, argc > 3 ? argv[3] : "", 0))
		err = errno;
	/* Read before anything else this thread does is counted. */
	f = open("/proc/thread-self/fail-nth", O_RDONLY | O_CLOEXEC);
	if (f >= 0) {
		n = read(f, left, sizeof(left) - 1);
		left[n > 0 ? n : 0] = '\0';
		left[strcspn(left, "\n")] = '\0';
		close(f);
	}
	write_nth("0");
	printf("errno %d left %s\n", err, left);
	return 0;
}
