/*
 * A dispatcher that shows the host what the host sent it: each request is served by the
 * engine (host_route_and_send), and the answer carries, under "response", the input the
 * dispatcher received ("input") and the engine's ChatOutput ("engine_output"). Tests compare
 * these real payloads with the schemas documented in the header. Uses the 1.3 JSON helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenhub_plugin.h"

struct tokenhub_instance {
    const tokenhub_host *host;
};

typedef struct capture_call {
    const tokenhub_host *host;
    tokenhub_completion_fn done;
    void *user_data;
    size_t input_len;
    uint8_t input[]; /* the input, copied */
} capture_call;

#define SLICE(text) ((tokenhub_slice){(const uint8_t *)(text), strlen(text)})

/* `json` with `path` set to `value`, malloc'ed (length in *len); NULL on error. */
static uint8_t *set(const tokenhub_host *host, tokenhub_slice json, const char *path, tokenhub_slice value, size_t *len) {
    int64_t need = host->host_json_set(host->host_context, json, SLICE(path), value, NULL, 0);
    if (need < 0) return NULL;
    uint8_t *out = malloc((size_t)need + 1);
    if (out == NULL || host->host_json_set(host->host_context, json, SLICE(path), value, out, (size_t)need) != need) {
        free(out);
        return NULL;
    }
    *len = (size_t)need;
    return out;
}

static void engine_done(void *user_data, tokenhub_status status, tokenhub_slice result, tokenhub_slice message) {
    capture_call *call = user_data;
    size_t with_input_len = 0, answer_len = 0;
    tokenhub_slice input = {call->input, call->input_len};
    uint8_t *with_input = status == TOKENHUB_OK ? set(call->host, result, "/response/input", input, &with_input_len) : NULL;
    uint8_t *answer = with_input ? set(call->host, (tokenhub_slice){with_input, with_input_len}, "/response/engine_output", result, &answer_len) : NULL;
    if (answer != NULL) {
        call->done(call->user_data, TOKENHUB_OK, (tokenhub_slice){answer, answer_len}, SLICE(""));
    } else {
        call->done(call->user_data, status == TOKENHUB_OK ? TOKENHUB_ERR_INTERNAL : status, result, message);
    }
    free(with_input);
    free(answer);
    free(call);
}

static void serve(tokenhub_instance *self, tokenhub_slice input, tokenhub_completion_fn done, void *user_data, int plan) {
    capture_call *call = malloc(sizeof *call + input.len);
    if (call == NULL) {
        done(user_data, TOKENHUB_ERR_INTERNAL, SLICE(""), SLICE("out of memory"));
        return;
    }
    *call = (capture_call){self->host, done, user_data, input.len};
    if (input.len > 0) memcpy(call->input, input.ptr, input.len);
    if (plan) {
        self->host->host_orchestrate(self->host->host_context, input, engine_done, call);
    } else {
        self->host->host_route_and_send(self->host->host_context, input, engine_done, call);
    }
}

static void capture_on_chat(tokenhub_instance *self, tokenhub_slice input, tokenhub_completion_fn done, void *user_data) {
    serve(self, input, done, user_data, 0);
}

static void capture_on_plan(tokenhub_instance *self, tokenhub_slice input, tokenhub_completion_fn done, void *user_data) {
    serve(self, input, done, user_data, 1);
}

static tokenhub_status capture_create(const tokenhub_host *host, tokenhub_slice config, tokenhub_instance **out,
                                      tokenhub_error_buffer error) {
    (void)config, (void)error;
    tokenhub_instance *self = calloc(1, sizeof *self);
    if (self == NULL) return TOKENHUB_ERR_INTERNAL;
    self->host = host;
    *out = self;
    return TOKENHUB_OK;
}

static tokenhub_status capture_start(tokenhub_instance *self, tokenhub_error_buffer error) {
    (void)self, (void)error;
    return TOKENHUB_OK;
}

static void capture_stop(tokenhub_instance *self, tokenhub_completion_fn done, void *user_data) {
    (void)self;
    done(user_data, TOKENHUB_OK, SLICE(""), SLICE(""));
}

static void capture_destroy(tokenhub_instance *self) { free(self); }

static const tokenhub_dispatch_vtable vtable = {
    .struct_size = sizeof(tokenhub_dispatch_vtable), .create = capture_create, .start = capture_start,
    .on_chat = capture_on_chat, .on_plan = capture_on_plan, .stop = capture_stop, .destroy = capture_destroy,
};

static const tokenhub_plugin_descriptor descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor), .abi_major = TOKENHUB_ABI_MAJOR, .abi_minor = TOKENHUB_ABI_MINOR,
    .name = "capture", .version = "1.0.0", .dispatch = &vtable,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
