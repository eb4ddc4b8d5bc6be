/*
 * A dispatcher as a plugin built against ABI 1.0 ships it: its descriptor ends before the
 * `store` field that 1.1 appended. A 1.1 host must load it and must not read past its end.
 */
#include <stddef.h>
#include <stdlib.h>

#include "tokenhub_plugin.h"

struct tokenhub_instance { int unused; };

static tokenhub_status old_create(const tokenhub_host *host, tokenhub_slice config,
                                  tokenhub_instance **out, tokenhub_error_buffer error) {
    (void)host; (void)config; (void)error;
    *out = calloc(1, sizeof **out);
    return *out ? TOKENHUB_OK : TOKENHUB_ERR_INTERNAL;
}
static tokenhub_status old_start(tokenhub_instance *i, tokenhub_error_buffer e) { (void)i; (void)e; return TOKENHUB_OK; }
static void old_chat(tokenhub_instance *i, tokenhub_slice s, tokenhub_completion_fn done, void *u) {
    (void)i; (void)s;
    tokenhub_slice empty = {NULL, 0};
    done(u, TOKENHUB_ERR_UNAVAILABLE, empty, empty);
}
static void old_stop(tokenhub_instance *i, tokenhub_completion_fn done, void *u) {
    (void)i;
    tokenhub_slice empty = {NULL, 0};
    done(u, TOKENHUB_OK, empty, empty);
}
static void old_destroy(tokenhub_instance *i) { free(i); }

static const tokenhub_dispatch_vtable vtable = {
    .struct_size = sizeof(tokenhub_dispatch_vtable), .create = old_create, .start = old_start,
    .on_chat = old_chat, .stop = old_stop, .destroy = old_destroy,
};

/* The 1.0 descriptor was this long; the bytes after it are not ours to promise. */
static const tokenhub_plugin_descriptor descriptor = {
    .struct_size = offsetof(tokenhub_plugin_descriptor, store), .abi_major = 1, .abi_minor = 0,
    .name = "old-timer", .version = "1.0.0", .dispatch = &vtable,
    .store = (const tokenhub_store_vtable *)0x1, /* garbage a 1.0 plugin never wrote: must be ignored */
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
