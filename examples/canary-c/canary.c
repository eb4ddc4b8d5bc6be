/*
 * canary: a TokenHub dispatch plugin in C (ABI 1.3), built against tokenhub_plugin.h alone.
 *
 * A request whose first user message contains the configured tag goes to the configured
 * model, strictly (it fails with "unknown_model" rather than going anywhere else); every
 * other request is declined with TOKENHUB_ERR_UNAVAILABLE, so the next dispatcher in the
 * chain serves it. Config: {"tag": "#canary", "model": "canary-model"}.
 *
 * The host records every answered request itself, and reads and writes the JSON for us
 * (host_json_get / host_json_set), so the plugin keeps no state per request: the host's
 * own completion and user_data go straight to host_route_and_send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenhub_plugin.h"

struct tokenhub_instance {
    const tokenhub_host *host;
    char *tag;        /* NUL-terminated */
    char *model_json; /* the model id as a JSON string, quotes included */
};

#define SLICE(text) ((tokenhub_slice){(const uint8_t *)(text), strlen(text)})

/* With value NULL: the value at `path` (a JSON Pointer) in `json`; else a copy of `json` with
   `path` set to `value` (JSON text). NUL-terminated and malloc'ed; NULL when absent or invalid. */
static char *json(const tokenhub_host *host, tokenhub_slice json, const char *path, const char *value) {
    char *out = NULL;
    for (int64_t len = 0, pass = 0; pass < 2; pass++) {
        len = value ? host->host_json_set(host->host_context, json, SLICE(path), SLICE(value), (uint8_t *)out, (size_t)len)
                    : host->host_json_get(host->host_context, json, SLICE(path), (uint8_t *)out, (size_t)len);
        if (len < 0) return NULL;
        if (pass == 0 && (out = malloc((size_t)len + 1)) == NULL) return NULL;
        if (pass == 1) out[len] = '\0';
    }
    return out;
}

static void canary_destroy(tokenhub_instance *self) { free(self->tag), free(self->model_json), free(self); }

static tokenhub_status canary_create(const tokenhub_host *host, tokenhub_slice config,
                                     tokenhub_instance **out, tokenhub_error_buffer error) {
    if (host->struct_size < offsetof(tokenhub_host, host_chat_error) + sizeof(void *)) {
        snprintf(error.data, error.capacity, "canary needs a host with ABI 1.3 or later");
        return TOKENHUB_ERR_NOT_SUPPORTED;
    }
    tokenhub_instance *self = calloc(1, sizeof *self);
    char *model = json(host, config, "/model", NULL);
    *self = (tokenhub_instance){host, json(host, config, "/tag", NULL), model ? malloc(strlen(model) + 3) : NULL};
    if (self->model_json) sprintf(self->model_json, "\"%s\"", model);
    free(model);
    if (self->tag && *self->tag && self->model_json) return *out = self, TOKENHUB_OK;
    canary_destroy(self);
    snprintf(error.data, error.capacity, "config: expected {\"tag\": non-empty string, \"model\": string}");
    return TOKENHUB_ERR_INVALID_ARGUMENT;
}

static tokenhub_status canary_start(tokenhub_instance *self, tokenhub_error_buffer error) { (void)self, (void)error; return TOKENHUB_OK; }

/* Whether the first user message contains the tag. */
static int tagged(tokenhub_instance *self, tokenhub_slice input) {
    char path[64], *role = NULL, *content = NULL;
    for (int i = 0; content == NULL; i++, free(role)) {
        snprintf(path, sizeof path, "/request/messages/%d/role", i);
        if ((role = json(self->host, input, path, NULL)) == NULL) return 0;
        snprintf(path, sizeof path, "/request/messages/%d/content", i);
        if (strcmp(role, "user") == 0 && (content = json(self->host, input, path, NULL)) == NULL) content = calloc(1, 1);
    }
    int found = strstr(content, self->tag) != NULL;
    free(content);
    return found;
}

static void canary_on_chat(tokenhub_instance *self, tokenhub_slice input, tokenhub_completion_fn done, void *user_data) {
    char *pinned = tagged(self, input) ? json(self->host, input, "/request/model_hint", self->model_json) : NULL;
    char *strict = pinned ? json(self->host, SLICE(pinned), "/request/model_strict", "true") : NULL;
    if (pinned == NULL) {
        done(user_data, TOKENHUB_ERR_UNAVAILABLE, SLICE(""), SLICE("not a canary request: the next dispatcher serves it"));
    } else if (strict == NULL) {
        done(user_data, TOKENHUB_ERR_INTERNAL, SLICE(""), SLICE("canary: could not rewrite the request"));
    } else { /* the host's own completion and user_data go straight through */
        self->host->host_route_and_send(self->host->host_context, SLICE(strict), done, user_data);
    }
    free(pinned);
    free(strict);
}

/* The host gave up on a request: cancel the engine call started with the same user_data. */
static void canary_on_cancel(tokenhub_instance *self, void *user_data) { self->host->host_cancel(self->host->host_context, user_data); }

/* Nothing runs in the background, and every call completes by itself: stopping is immediate. */
static void canary_stop(tokenhub_instance *self, tokenhub_completion_fn done, void *user_data) { (void)self, done(user_data, TOKENHUB_OK, SLICE(""), SLICE("")); }

static const tokenhub_dispatch_vtable canary_vtable = {
    .struct_size = sizeof(tokenhub_dispatch_vtable), .create = canary_create, .start = canary_start,
    .on_chat = canary_on_chat, .stop = canary_stop, .destroy = canary_destroy, .on_cancel = canary_on_cancel,
};

static const tokenhub_plugin_descriptor canary_descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor), .abi_major = TOKENHUB_ABI_MAJOR,
    .abi_minor = TOKENHUB_ABI_MINOR, .name = "canary", .version = "1.0.0", .dispatch = &canary_vtable,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &canary_descriptor; }
