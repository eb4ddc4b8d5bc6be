/*
 * A third-party dispatcher in plain C, built against tokenhub_plugin.h alone.
 *
 * It relays each chat request to the host's engine (host_route_and_send) and hands the
 * engine's answer back, proving the host table and the completion contract work from C.
 * With config {"unavailable": true} it declines every request, so the host falls through
 * to the next dispatcher in the chain.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenhub_plugin.h"

struct tokenhub_instance {
    const tokenhub_host *host;
    int unavailable;
};

/* What a relayed request needs to finish: the host's caller's completion. */
typedef struct relay_call {
    tokenhub_completion_fn done;
    void *user_data;
} relay_call;

static void copy_error(tokenhub_error_buffer error, const char *message) {
    if (error.data == NULL || error.capacity == 0) return;
    strncpy(error.data, message, error.capacity - 1);
    error.data[error.capacity - 1] = '\0';
}

static tokenhub_status relay_create(const tokenhub_host *host, tokenhub_slice config,
                                    tokenhub_instance **out, tokenhub_error_buffer error) {
    tokenhub_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) {
        copy_error(error, "out of memory");
        return TOKENHUB_ERR_INTERNAL;
    }
    instance->host = host;
    /* A real plugin would parse JSON; this one only looks for one flag. */
    const char *flag = "\"unavailable\":true";
    size_t flag_len = strlen(flag);
    for (size_t i = 0; config.ptr != NULL && i + flag_len <= config.len; i++) {
        if (memcmp(config.ptr + i, flag, flag_len) == 0) instance->unavailable = 1;
    }
    *out = instance;
    return TOKENHUB_OK;
}

static tokenhub_status relay_start(tokenhub_instance *instance, tokenhub_error_buffer error) {
    (void)error;
    static const char message[] = "relay dispatcher started";
    tokenhub_slice line = {(const uint8_t *)message, sizeof message - 1};
    instance->host->host_log(instance->host->host_context, TOKENHUB_LOG_INFO, line);
    return TOKENHUB_OK;
}

/* The engine answered: pass its bytes straight through (borrowed, so no copy needed). */
static void relay_engine_done(void *user_data, tokenhub_status status, tokenhub_slice result,
                              tokenhub_slice error_message) {
    relay_call *call = user_data;
    call->done(call->user_data, status, result, error_message);
    free(call);
}

static void relay_on_chat(tokenhub_instance *instance, tokenhub_slice input,
                          tokenhub_completion_fn done, void *user_data) {
    static const char declined[] = "relay is configured to decline";
    tokenhub_slice empty = {NULL, 0};
    if (instance->unavailable) {
        tokenhub_slice message = {(const uint8_t *)declined, sizeof declined - 1};
        done(user_data, TOKENHUB_ERR_UNAVAILABLE, empty, message);
        return;
    }
    relay_call *call = malloc(sizeof *call);
    if (call == NULL) {
        static const char oom[] = "out of memory";
        tokenhub_slice message = {(const uint8_t *)oom, sizeof oom - 1};
        done(user_data, TOKENHUB_ERR_INTERNAL, empty, message);
        return;
    }
    call->done = done;
    call->user_data = user_data;
    instance->host->host_route_and_send(instance->host->host_context, input, relay_engine_done, call);
}

static void relay_stop(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data) {
    (void)instance;
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, empty, empty);
}

static void relay_destroy(tokenhub_instance *instance) { free(instance); }

/* Designated initializers: fields a later minor appends start as zero (NULL). */
static const tokenhub_dispatch_vtable relay_vtable = {
    .struct_size = sizeof(tokenhub_dispatch_vtable),
    .create = relay_create,
    .start = relay_start,
    .on_chat = relay_on_chat,
    .on_plan = NULL, /* not offered: the host passes plans to the next dispatcher */
    .stop = relay_stop,
    .destroy = relay_destroy,
};

static const tokenhub_plugin_descriptor relay_descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor),
    .abi_major = TOKENHUB_ABI_MAJOR,
    .abi_minor = TOKENHUB_ABI_MINOR,
    .name = "c-relay",
    .version = "1.0.0",
    .dispatch = &relay_vtable,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &relay_descriptor; }
