/* A valid plugin that offers no dispatcher: configuring it in the chain is an error. */
#include "tokenhub_plugin.h"

static const tokenhub_plugin_descriptor descriptor = {
    .struct_size = sizeof(tokenhub_plugin_descriptor), .abi_major = TOKENHUB_ABI_MAJOR, .abi_minor = TOKENHUB_ABI_MINOR,
    .name = "kindless", .version = "1.0.0",
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
