/*
 * A buggy dispatcher, to prove a broken plugin cannot crash or hang the host.
 * config {"behavior":"twice"}: completes every request two times.
 * config {"behavior":"never"}: never completes a request.
 * config {"behavior":"noop"}: completes at once with a fixed ChatOutput (the ABI benchmark).
 * config {"behavior":"never_stop"}: answers requests like noop, but never completes stop.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenhub_plugin.h"

enum behavior { TWICE, NEVER, NOOP, NEVER_STOP };

struct tokenhub_instance { enum behavior behavior; };

static int contains(tokenhub_slice haystack, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; haystack.ptr != NULL && i + n <= haystack.len; i++) {
        if (memcmp(haystack.ptr + i, needle, n) == 0) return 1;
    }
    return 0;
}

static tokenhub_status bad_create(const tokenhub_host *host, tokenhub_slice config,
                                  tokenhub_instance **out, tokenhub_error_buffer error) {
    (void)host; (void)error;
    tokenhub_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) return TOKENHUB_ERR_INTERNAL;
    instance->behavior = contains(config, "\"twice\"") ? TWICE : contains(config, "\"never\"") ? NEVER
                       : contains(config, "\"never_stop\"") ? NEVER_STOP : NOOP;
    *out = instance;
    return TOKENHUB_OK;
}

static tokenhub_status bad_start(tokenhub_instance *i, tokenhub_error_buffer e) { (void)i; (void)e; return TOKENHUB_OK; }

static void bad_on_chat(tokenhub_instance *instance, tokenhub_slice input,
                        tokenhub_completion_fn done, void *user_data) {
    (void)input;
    static const char output[] =
        "{\"decision\":{\"model_id\":\"c-noop\",\"provider_id\":\"c\",\"estimated_cost_usd\":0,\"reason\":\"noop\"},"
        "\"response\":{},\"latency_ms\":0,\"error\":\"\",\"error_class\":\"\"}";
    tokenhub_slice result = {(const uint8_t *)output, sizeof output - 1};
    tokenhub_slice empty = {NULL, 0};
    switch (instance->behavior) {
    case NEVER: return;
    case TWICE: done(user_data, TOKENHUB_OK, result, empty); /* fall through */
    case NOOP: case NEVER_STOP: done(user_data, TOKENHUB_OK, result, empty); return;
    }
}

static void bad_stop(tokenhub_instance *i, tokenhub_completion_fn done, void *user_data) {
    if (i->behavior == NEVER_STOP) return;
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, empty, empty);
}

static void bad_destroy(tokenhub_instance *instance) { free(instance); }

static const tokenhub_dispatch_vtable vtable = {
    .struct_size = sizeof(tokenhub_dispatch_vtable), .create = bad_create, .start = bad_start,
    .on_chat = bad_on_chat, .stop = bad_stop, .destroy = bad_destroy,
};

static const tokenhub_plugin_descriptor descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor), .abi_major = TOKENHUB_ABI_MAJOR, .abi_minor = TOKENHUB_ABI_MINOR,
    .name = "misbehaving", .version = "1.0.0", .dispatch = &vtable,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
