/*
 * metrics — Prometheus text exposition (format 0.0.4) helpers.
 *
 * Each module keeps its own counters (atomics where several threads write)
 * and renders them through these helpers; /metrics concatenates the
 * modules' sections. Names are `conclave_<module>_<what>[_total]`.
 */
#ifndef CONCLAVE_METRICS_H
#define CONCLAVE_METRICS_H

#include <stdint.h>

#include "util/buf.h"

/* "# HELP" and "# TYPE" lines for one metric family. */
void metrics_family(struct wbuf *b, const char *name, const char *type,
		    const char *help);
/* One sample without labels. */
void metrics_sample(struct wbuf *b, const char *name, uint64_t v);
/* One sample with a single label (value must be a plain identifier). */
void metrics_sample_l(struct wbuf *b, const char *name, const char *label,
		      const char *lval, uint64_t v);
/* Family header plus one unlabelled sample. */
void metrics_counter(struct wbuf *b, const char *name, const char *help,
		     uint64_t v);
void metrics_gauge(struct wbuf *b, const char *name, const char *help,
		   uint64_t v);
/* The same with a fractional value (seconds). */
void metrics_counter_f(struct wbuf *b, const char *name, const char *help,
		       double v);
void metrics_gauge_f(struct wbuf *b, const char *name, const char *help,
		     double v);

/*
 * A histogram family: `counts` holds n + 1 per-bucket (not cumulative)
 * counts, the last one for values above le[n - 1]; written as cumulative
 * _bucket{le=...} samples, _sum (sum, in the unit of le) and _count.
 */
void metrics_histogram(struct wbuf *b, const char *name, const char *help,
		       const double *le, const uint64_t *counts, size_t n,
		       double sum);

/* process.c: the standard process_* metrics of this process (CPU, memory,
 * fds, threads, start time), read from /proc/self now. */
void metrics_process(struct wbuf *b);

#endif
