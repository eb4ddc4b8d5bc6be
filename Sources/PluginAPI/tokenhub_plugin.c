/*
 * Compile-time checks of the ABI's promises. The header stays the only thing a plugin
 * author needs; this file exists so that every host build verifies them.
 */
#include "tokenhub_plugin.h"

/* `struct_size` must be the first field of every struct that crosses the boundary, so a
 * receiver can read it before knowing which minor the other side was built against. */
_Static_assert(offsetof(tokenhub_host, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(tokenhub_dispatch_vtable, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(tokenhub_plugin_descriptor, struct_size) == 0, "struct_size first");
_Static_assert(sizeof(tokenhub_status) == 4, "status is a 32-bit integer");
