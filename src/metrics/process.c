/*
 * process — the standard process metrics of Prometheus client libraries
 * (process_cpu_seconds_total, process_resident_memory_bytes, ...), read
 * from /proc/self at each scrape, so operators' dashboards and alerts for
 * memory, file descriptors and CPU work on conclave unchanged.
 *
 * Fields of /proc/self/stat are numbered as in proc(5); the command name
 * (field 2) may contain spaces and parentheses, so parsing starts after
 * its last ')'. A metric that cannot be read is left out, never made up.
 */
#include "metrics/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* proc(5): fields 3 (state) to 24 (rss) of /proc/self/stat. */
enum { STAT_FIRST = 3, STAT_UTIME = 14, STAT_STIME = 15, STAT_THREADS = 20,
       STAT_STARTTIME = 22, STAT_VSIZE = 23, STAT_RSS = 24 };

struct proc_stat {
	unsigned long long f[STAT_RSS + 1];   /* indexed by field number */
};

static int read_stat(struct proc_stat *st)
{
	char buf[1024], *p, *end;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;  /* ") " */
	memset(st, 0, sizeof(*st));
	/* field 3 is the state letter: skip it */
	while (*p && *p != ' ')
		p++;
	for (int i = STAT_FIRST + 1; i <= STAT_RSS; i++) {
		st->f[i] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return 0;
}

/* btime of /proc/stat: boot time, seconds since the epoch. */
static long long boot_time(void)
{
	char line[256];
	long long bt = -1;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
			n++;
	closedir(d);
	return n;
}

void metrics_process(struct wbuf *b)
{
	struct proc_stat st;
	struct rlimit rl;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	long long bt = boot_time();
	long fds = open_fds();

	if (tck <= 0)
		tck = 100;
	if (read_stat(&st) == 0) {
		metrics_counter_f(b, "process_cpu_seconds_total",
				  "user and system CPU time spent, seconds",
				  (double)(st.f[STAT_UTIME] + st.f[STAT_STIME]) /
					  (double)tck);
		metrics_gauge(b, "process_resident_memory_bytes",
			      "resident memory size, bytes",
			      st.f[STAT_RSS] * (unsigned long long)page);
		metrics_gauge(b, "process_virtual_memory_bytes",
			      "virtual memory size, bytes", st.f[STAT_VSIZE]);
		metrics_gauge(b, "process_threads", "operating system threads",
			      st.f[STAT_THREADS]);
		if (bt >= 0)
			metrics_gauge_f(b, "process_start_time_seconds",
					"start time of the process since the epoch, seconds",
					(double)bt + (double)st.f[STAT_STARTTIME] /
							     (double)tck);
	}
	if (fds >= 0)
		metrics_gauge(b, "process_open_fds", "open file descriptors",
			      (uint64_t)fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		metrics_gauge(b, "process_max_fds",
			      "maximum number of open file descriptors",
			      (uint64_t)rl.rlim_cur);
}
