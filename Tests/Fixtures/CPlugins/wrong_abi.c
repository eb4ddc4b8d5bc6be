/* A plugin built for a future ABI major: the host must refuse it by version. */
#include "tokenhub_plugin.h"

static const tokenhub_plugin_descriptor descriptor = {
    sizeof(tokenhub_plugin_descriptor), TOKENHUB_ABI_MAJOR + 1, 0, "future", "9.0.0", NULL,
};

const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
