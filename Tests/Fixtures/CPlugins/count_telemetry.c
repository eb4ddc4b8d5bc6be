/*
 * A third-party telemetry plugin in plain C, built against tokenhub_plugin.h alone.
 *
 * It counts the results the host hands it (atomically: the hooks run concurrently on the
 * request path) and reports the count when /metrics is scraped. On its first result it also
 * records a gauge through host_metric_record whose label needs escaping, which reaches every
 * telemetry plugin (itself included) through on_metric. Then two that clash with series
 * already there (another kind under PrometheusTelemetry's request counter; no labels where the
 * gauge has them), which an exporter must refuse without stopping the process.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "tokenhub_plugin.h"

struct tokenhub_instance {
    const tokenhub_host *host;
    atomic_ulong results;
    atomic_ulong metrics;
};

static tokenhub_status count_create(const tokenhub_host *host, tokenhub_slice config,
                                    tokenhub_instance **out, tokenhub_error_buffer error) {
    (void)config;
    (void)error;
    tokenhub_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) return TOKENHUB_ERR_INTERNAL;
    instance->host = host;
    *out = instance;
    return TOKENHUB_OK;
}

static void count_on_result(tokenhub_instance *instance, tokenhub_slice log_result_json) {
    if (log_result_json.len == 0) return;
    if (atomic_fetch_add(&instance->results, 1) == 0) {
        static const char name[] = "c_telemetry_note";
        static const char labels[] = "{\"note\":\"say \\\"hi\\\"\\n\"}"; /* note = say "hi" + newline */
        tokenhub_slice name_slice = {(const uint8_t *)name, sizeof name - 1};
        tokenhub_slice labels_slice = {(const uint8_t *)labels, sizeof labels - 1};
        instance->host->host_metric_record(instance->host->host_context, TOKENHUB_METRIC_GAUGE, name_slice, labels_slice, 1);
        static const char clash[] = "tokenhub_requests_total";
        tokenhub_slice clash_slice = {(const uint8_t *)clash, sizeof clash - 1};
        tokenhub_slice no_labels = {(const uint8_t *)"", 0};
        instance->host->host_metric_record(instance->host->host_context, TOKENHUB_METRIC_GAUGE, clash_slice, labels_slice, 1);
        instance->host->host_metric_record(instance->host->host_context, TOKENHUB_METRIC_GAUGE, name_slice, no_labels, 2);
    }
}

static void count_on_metric(tokenhub_instance *instance, tokenhub_metric_kind kind, tokenhub_slice name,
                            tokenhub_slice labels_json, double value) {
    (void)kind;
    (void)name;
    (void)labels_json;
    (void)value;
    atomic_fetch_add(&instance->metrics, 1);
}

static void count_on_event(tokenhub_instance *instance, tokenhub_slice event_json) {
    (void)instance;
    (void)event_json;
}

/* The text lives on the stack: the host copies the result before `done` returns. */
static void count_on_scrape(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data) {
    char text[256];
    int length = snprintf(text, sizeof text,
                          "# HELP c_telemetry_results_total Results seen by the C plugin.\n"
                          "# TYPE c_telemetry_results_total counter\n"
                          "c_telemetry_results_total %lu\n",
                          (unsigned long)atomic_load(&instance->results));
    tokenhub_slice result = {(const uint8_t *)text, (size_t)length};
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, result, empty);
}

static void count_stop(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data) {
    (void)instance;
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, empty, empty);
}

static void count_destroy(tokenhub_instance *instance) { free(instance); }

static const tokenhub_telemetry_vtable count_vtable = {
    .struct_size = sizeof(tokenhub_telemetry_vtable),
    .create = count_create,
    .on_result = count_on_result,
    .on_metric = count_on_metric,
    .on_event = count_on_event,
    .on_scrape = count_on_scrape,
    .stop = count_stop,
    .destroy = count_destroy,
};

static const tokenhub_plugin_descriptor count_descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor),
    .abi_major = TOKENHUB_ABI_MAJOR,
    .abi_minor = TOKENHUB_ABI_MINOR,
    .name = "c-count",
    .version = "1.0.0",
    .telemetry = &count_vtable,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &count_descriptor; }
