/* A plugin built for a future ABI major: the host must refuse it by version. */
#include "tokenhub_plugin.h"

static const tokenhub_plugin_descriptor descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor), .abi_major = TOKENHUB_ABI_MAJOR + 1, .abi_minor = 0,
    .name = "future", .version = "9.0.0",
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
