/*
 * A store that fails the way a sick database does, to prove the host fails safe:
 * - apikey.get_by_hash answers a key record for whatever hash it is asked about (enabled,
 *   monthly budget $1), so any presented key authenticates;
 * - request_log.spend and budget.reserve fail ("disk on fire"): the host must refuse the request, not count $0;
 * - request_log.append_batch never completes: the host's queue of log rows must stay bounded;
 * - provider.list fails, so the host routes on the config file's registry;
 * - everything else answers {}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenhub_plugin.h"

struct tokenhub_instance { int unused; };

static int equals(tokenhub_slice slice, const char *text) {
    return slice.len == strlen(text) && memcmp(slice.ptr, text, slice.len) == 0;
}

static tokenhub_status fs_create(const tokenhub_host *host, tokenhub_slice config, tokenhub_instance **out,
                                 tokenhub_error_buffer error) {
    (void)host; (void)config; (void)error;
    *out = calloc(1, sizeof **out);
    return *out == NULL ? TOKENHUB_ERR_INTERNAL : TOKENHUB_OK;
}

static void fs_start(tokenhub_instance *i, tokenhub_completion_fn done, void *user_data) {
    (void)i;
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, empty, empty);
}

static void fs_on_call(tokenhub_instance *i, tokenhub_slice operation, tokenhub_slice request,
                       tokenhub_completion_fn done, void *user_data) {
    (void)i;
    tokenhub_slice empty = {NULL, 0};
    if (equals(operation, "request_log.append_batch")) return; /* never completes */
    if (equals(operation, "request_log.spend") || equals(operation, "budget.reserve") || equals(operation, "provider.list")) {
        static const char message[] = "disk on fire at /var/lib/secret-path";
        tokenhub_slice text = {(const uint8_t *)message, sizeof message - 1};
        done(user_data, TOKENHUB_ERR_UNAVAILABLE, empty, text);
        return;
    }
    if (equals(operation, "apikey.get_by_hash")) {
        /* The request is {"key_hash":"<64 hex>"}: answer a record with that hash. */
        const char *hash = NULL;
        for (size_t k = 0; k + 12 <= request.len; k++) {
            if (memcmp(request.ptr + k, "\"key_hash\":\"", 12) == 0) { hash = (const char *)request.ptr + k + 12; break; }
        }
        char answer[512];
        int n = snprintf(answer, sizeof answer,
                         "{\"key\":{\"id\":\"key_sick\",\"key_hash\":\"%.64s\",\"enabled\":true,\"scopes\":[],"
                         "\"monthly_budget_usd\":1,\"rate_limit_rps\":0,\"expires_unix_ms\":0}}",
                         hash == NULL ? "" : hash);
        tokenhub_slice result = {(const uint8_t *)answer, (size_t)n};
        done(user_data, TOKENHUB_OK, result, empty);
        return;
    }
    static const char ok[] = "{}";
    tokenhub_slice result = {(const uint8_t *)ok, sizeof ok - 1};
    done(user_data, TOKENHUB_OK, result, empty);
}

static void fs_stop(tokenhub_instance *i, tokenhub_completion_fn done, void *user_data) {
    (void)i;
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, empty, empty);
}

static void fs_destroy(tokenhub_instance *i) { free(i); }

static const tokenhub_store_vtable vtable = {
    sizeof(tokenhub_store_vtable), fs_create, fs_start, fs_on_call, fs_stop, fs_destroy,
};

static const tokenhub_plugin_descriptor descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor), .abi_major = TOKENHUB_ABI_MAJOR, .abi_minor = TOKENHUB_ABI_MINOR,
    .name = "failing_store", .version = "1.0.0", .store = &vtable,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
