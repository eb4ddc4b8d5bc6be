/* A dispatcher whose create rejects its configuration with its own message. */
#include <string.h>

#include "tokenhub_plugin.h"

static tokenhub_status failing_create(const tokenhub_host *host, tokenhub_slice config,
                                      tokenhub_instance **out, tokenhub_error_buffer error) {
    (void)host; (void)config; (void)out;
    const char *message = "config.endpoint: required setting is missing";
    strncpy(error.data, message, error.capacity - 1);
    error.data[error.capacity - 1] = '\0';
    return TOKENHUB_ERR_INVALID_ARGUMENT;
}

static tokenhub_status unused_start(tokenhub_instance *i, tokenhub_error_buffer e) { (void)i; (void)e; return TOKENHUB_OK; }
static void unused_chat(tokenhub_instance *i, tokenhub_slice s, tokenhub_completion_fn d, void *u) { (void)i; (void)s; (void)d; (void)u; }
static void unused_stop(tokenhub_instance *i, tokenhub_completion_fn d, void *u) { (void)i; (void)d; (void)u; }
static void unused_destroy(tokenhub_instance *i) { (void)i; }

static const tokenhub_dispatch_vtable vtable = {
    .struct_size = sizeof(tokenhub_dispatch_vtable), .create = failing_create, .start = unused_start,
    .on_chat = unused_chat, .stop = unused_stop, .destroy = unused_destroy,
};

static const tokenhub_plugin_descriptor descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor), .abi_major = TOKENHUB_ABI_MAJOR, .abi_minor = TOKENHUB_ABI_MINOR,
    .name = "picky", .version = "1.0.0", .dispatch = &vtable,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
