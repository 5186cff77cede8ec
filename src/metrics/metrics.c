/* metrics — Prometheus text helpers (see metrics.h). */
#include "metrics/metrics.h"

#include <inttypes.h>

void metrics_family(struct wbuf *b, const char *name, const char *type,
		    const char *help)
{
	wbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_sample(struct wbuf *b, const char *name, uint64_t v)
{
	wbuf_printf(b, "%s %" PRIu64 "\n", name, v);
}

void metrics_sample_l(struct wbuf *b, const char *name, const char *label,
		      const char *lval, uint64_t v)
{
	wbuf_printf(b, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, lval, v);
}

void metrics_counter(struct wbuf *b, const char *name, const char *help,
		     uint64_t v)
{
	metrics_family(b, name, "counter", help);
	metrics_sample(b, name, v);
}

void metrics_gauge(struct wbuf *b, const char *name, const char *help,
		   uint64_t v)
{
	metrics_family(b, name, "gauge", help);
	metrics_sample(b, name, v);
}

void metrics_counter_f(struct wbuf *b, const char *name, const char *help,
		       double v)
{
	metrics_family(b, name, "counter", help);
	wbuf_printf(b, "%s %.6f\n", name, v);
}

void metrics_gauge_f(struct wbuf *b, const char *name, const char *help,
		     double v)
{
	metrics_family(b, name, "gauge", help);
	wbuf_printf(b, "%s %.3f\n", name, v);
}

void metrics_histogram(struct wbuf *b, const char *name, const char *help,
		       const double *le, const uint64_t *counts, size_t n,
		       double sum)
{
	uint64_t cum = 0;

	metrics_family(b, name, "histogram", help);
	for (size_t i = 0; i <= n; i++) {
		cum += counts[i];
		if (i < n)
			wbuf_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
				    le[i], cum);
		else
			wbuf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n",
				    name, cum);
	}
	wbuf_printf(b, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, sum, name,
		    cum);
}
