/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Prometheus metrics of every device and poll lcore, rendered from the balloon library's
 * public API only (docs/metrics.md lists the families). One renderer, two text dialects:
 * OpenMetrics 1.0 (what Prometheus asks for over HTTP) and the older Prometheus text format
 * 0.0.4 (what node_exporter's textfile collector reads).
 *
 * Every counter the library names (vhb_device_counter_names()) becomes a metric without a
 * change here: "bytes" in a counter's name moves to the end as its unit
 * ("report_bytes_regained" -> vhost_balloon_report_regained_bytes_total).
 */
#ifndef VHB_METRICS_H
#define VHB_METRICS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vhb_metrics_format {
	VHB_METRICS_OPENMETRICS = 0,	/**< application/openmetrics-text 1.0.0 */
	VHB_METRICS_PROMETHEUS,		/**< text/plain 0.0.4 (node_exporter textfile) */
};

/**
 * Render the metrics into a malloc'd NUL-terminated buffer (*out, free() it; *len its
 * length). Call from a control thread where no device can be destroyed meanwhile (the
 * daemon holds its command lock). Never touches a poll lcore. 0, -EINVAL or -ENOMEM.
 */
int vhb_metrics_render(enum vhb_metrics_format fmt, char **out, size_t *len);

/** HTTP Content-Type of a format. */
const char *vhb_metrics_content_type(enum vhb_metrics_format fmt);

/** "openmetrics" or "prometheus"; and back (0 or -EINVAL). */
const char *vhb_metrics_format_name(enum vhb_metrics_format fmt);
int vhb_metrics_format_parse(const char *name, enum vhb_metrics_format *fmt);

#ifdef __cplusplus
}
#endif

#endif /* VHB_METRICS_H */
