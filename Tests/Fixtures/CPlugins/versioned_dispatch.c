/*
 * A dispatcher compiled against an older copy of the header (Tests/Fixtures/Headers/1.x),
 * as a plugin shipped for that minor is. It answers every chat with a fixed ChatOutput whose
 * model id names the minor it was built for ("built-1.0"), so a test can see it served.
 *
 * Its descriptor and vtable are the sizes its header declares (the 1.0 descriptor ends before
 * `store`), and each sits at the very end of a page whose next page is unmapped: a host that
 * reads one byte past `struct_size` crashes instead of reading someone else's memory.
 */
#define _DEFAULT_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tokenhub_plugin.h"

#define STR2(x) #x
#define STR(x) STR2(x)

struct tokenhub_instance { int unused; };

static tokenhub_status v_create(const tokenhub_host *host, tokenhub_slice config, tokenhub_instance **out,
                                tokenhub_error_buffer error) {
    (void)host; (void)config; (void)error;
    *out = calloc(1, sizeof **out);
    return *out ? TOKENHUB_OK : TOKENHUB_ERR_INTERNAL;
}

static tokenhub_status v_start(tokenhub_instance *i, tokenhub_error_buffer e) { (void)i; (void)e; return TOKENHUB_OK; }

static void v_chat(tokenhub_instance *i, tokenhub_slice input, tokenhub_completion_fn done, void *user_data) {
    (void)i; (void)input;
    static const char output[] =
        "{\"decision\":{\"model_id\":\"built-" STR(TOKENHUB_ABI_MAJOR) "." STR(TOKENHUB_ABI_MINOR) "\",\"provider_id\":\"c\","
        "\"estimated_cost_usd\":0,\"reason\":\"versioned\"},\"response\":{\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]},\"latency_ms\":0,\"error\":\"\",\"error_class\":\"\"}";
    tokenhub_slice result = {(const uint8_t *)output, sizeof output - 1};
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, result, empty);
}

static void v_stop(tokenhub_instance *i, tokenhub_completion_fn done, void *user_data) {
    (void)i;
    tokenhub_slice empty = {NULL, 0};
    done(user_data, TOKENHUB_OK, empty, empty);
}

static void v_destroy(tokenhub_instance *i) { free(i); }

/* `size` bytes at the end of a readable page followed by an unmapped one. */
static void *guarded(size_t size) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *pages = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) return NULL;
    munmap(pages + page, (size_t)page);
    return pages + page - size;
}

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) {
    static const tokenhub_plugin_descriptor *cached;
    if (cached != NULL) return cached;
    tokenhub_dispatch_vtable vtable = {
        .struct_size = sizeof(tokenhub_dispatch_vtable), .create = v_create, .start = v_start,
        .on_chat = v_chat, .stop = v_stop, .destroy = v_destroy,
    };
    tokenhub_dispatch_vtable *placed_vtable = guarded(sizeof vtable);
    if (placed_vtable == NULL) return NULL;
    memcpy(placed_vtable, &vtable, sizeof vtable);
    /* The size this header declares: 1.0's descriptor ends at `dispatch`, 1.1's at `store`. */
    size_t descriptor_size = sizeof(tokenhub_plugin_descriptor);
    tokenhub_plugin_descriptor descriptor = {
        .struct_size = descriptor_size, .abi_major = TOKENHUB_ABI_MAJOR, .abi_minor = TOKENHUB_ABI_MINOR,
        .name = "versioned", .version = "1." STR(TOKENHUB_ABI_MINOR), .dispatch = placed_vtable,
    };
    tokenhub_plugin_descriptor *placed = guarded(descriptor_size);
    if (placed == NULL) return NULL;
    memcpy(placed, &descriptor, descriptor_size);
    cached = placed;
    return cached;
}
