/* A valid plugin that offers no dispatcher: configuring it in the chain is an error. */
#include "tokenhub_plugin.h"

static const tokenhub_plugin_descriptor descriptor = {
    sizeof(tokenhub_plugin_descriptor), TOKENHUB_ABI_MAJOR, TOKENHUB_ABI_MINOR, "kindless", "1.0.0", NULL,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
