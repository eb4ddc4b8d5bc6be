/*
 * tokenhub_plugin.h — the TokenHub plugin ABI, version 1.3.
 *
 * This header is the whole contract between the TokenHub host and a plugin. It is plain C11:
 * a plugin may be written in C, Rust, Swift or anything else that can export a C function.
 * Nothing but the C types declared here ever crosses the boundary.
 *
 * Read it top to bottom:
 *   1. Basic types: byte slices, status codes, log levels.
 *   2. The completion callback every asynchronous call uses.
 *   3. The host table: what the host offers a plugin (direction host -> plugin: "host_*").
 *   4. The dispatch vtable: what a dispatch plugin offers the host ("on_*" hooks).
 *   4b. The store vtable (since 1.1): persistence behind named operations.
 *   4c. The telemetry vtable (since 1.2): request results and metrics out, /metrics text in.
 *   5. The descriptor and the one exported entry function.
 *   6. The JSON payload schemas, and the store operations.
 *
 * General rules (each function repeats what applies to it):
 *   - OWNERSHIP: every pointer passed into a function is borrowed for the duration of that
 *     call only. Whoever wants to keep bytes past the call copies them. Nothing allocated on
 *     one side is ever freed on the other.
 *   - THREAD: unless stated otherwise, any function may be called from any thread, and
 *     concurrently with itself and with the other functions of the same instance.
 *   - NO BLOCKING: no call blocks its caller on I/O. Work that does I/O (a provider call,
 *     a database write, a network connect) takes a completion callback plus `user_data`,
 *     returns at once, and later invokes the callback exactly once, from any thread.
 *   - ERRORS: a status code (0 ok, negative error) plus a UTF-8 message that the receiver
 *     copies. No exception, panic, Swift error or signal crosses the boundary.
 *   - LIFECYCLE (every kind): create -> start -> hooks ... -> stop -> destroy.
 *       `start` is called once, after `create` and before any other hook, and returns at
 *         once; what it cannot finish without I/O it finishes in the background (a store's
 *         `start` reports that through its callback; a telemetry plugin has none: it starts
 *         in `create`).
 *       `stop` is called once, after every hook call the host started has RETURNED (no hook
 *         is running on any thread). Completions of earlier calls may still be pending: the
 *         instance finishes that work (drains), fires each pending `done`, then fires
 *         `stop`'s `done`. No hook but `destroy` follows; no callback may fire after
 *         `destroy` returns. `destroy` is also what follows a failed `start`.
 *   - DEADLINES: every ChatInput and OrchestrationInput carries `deadline_unix_ms`, the one
 *     deadline of the request (section 6). A dispatcher answers by then (with
 *     TOKENHUB_ERR_TIMEOUT if nothing better); the host stops waiting a few seconds after it.
 *   - VERSIONING: a plugin is accepted only if its ABI major equals the host's. Minor
 *     versions only append fields to the end of structs; every struct a side hands over
 *     starts with `struct_size`, so the receiver knows which fields exist. The host keeps its
 *     own copy of the descriptor and of each vtable, made from at most `struct_size` bytes of
 *     the plugin's: a field the plugin's header did not have reads as NULL. It accepts a
 *     vtable that covers every field of the minor that introduced its kind (dispatch 1.0,
 *     store 1.1, telemetry 1.2: everything up to `destroy`), and a descriptor that covers 1.0's
 *     fields. Every field added after its struct's first version says "Since 1.x". Copies of
 *     each released header are kept in the repository (Tests/Fixtures/Headers); plugins built
 *     against each are tested against this host.
 */
#ifndef TOKENHUB_PLUGIN_H
#define TOKENHUB_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* 1. Basic types                                                                           */
/* ---------------------------------------------------------------------------------------- */

/** The ABI version this header describes. */
#define TOKENHUB_ABI_MAJOR 1
#define TOKENHUB_ABI_MINOR 3

/** The name of the one symbol every plugin exports (see section 5). */
#define TOKENHUB_PLUGIN_ENTRY_SYMBOL "tokenhub_plugin_entry"

/**
 * A run of bytes, usually UTF-8 JSON. Not NUL-terminated. `ptr` may be NULL when `len` is 0.
 * OWNERSHIP: always borrowed; valid only during the call that receives it.
 */
typedef struct tokenhub_slice {
    const uint8_t *ptr;
    size_t len;
} tokenhub_slice;

/** Result of an ABI call. 0 is success; errors are negative. */
typedef int32_t tokenhub_status;

enum {
    /** Success. */
    TOKENHUB_OK = 0,
    /** The input was malformed or failed validation. The message names the field. */
    TOKENHUB_ERR_INVALID_ARGUMENT = -1,
    /**
     * "Not me, not now": the dispatcher cannot serve this request (its backend is down,
     * disabled, or still connecting). The host passes the request to the next dispatcher in
     * the chain. Only this code causes a fallback; every other error is the request's answer.
     */
    TOKENHUB_ERR_UNAVAILABLE = -2,
    /** An upstream (LLM provider) failed; the output JSON carries the error class. */
    TOKENHUB_ERR_UPSTREAM = -3,
    /** The operation is not offered by this plugin or host. */
    TOKENHUB_ERR_NOT_SUPPORTED = -4,
    /** The operation was cancelled (for example because the instance is stopping). */
    TOKENHUB_ERR_CANCELLED = -5,
    /** A deadline passed before the operation finished. */
    TOKENHUB_ERR_TIMEOUT = -6,
    /** Anything else: a bug or an unexpected condition. The message says what. */
    TOKENHUB_ERR_INTERNAL = -7,
    /** Since 1.3: what was asked for does not exist (a JSON Pointer that leads nowhere). */
    TOKENHUB_ERR_NOT_FOUND = -8
};

/*
 * Enumerations cross the boundary as fixed-width integers (since 1.3; binary-compatible with
 * the enum types of earlier headers on every platform TokenHub runs on): the size of a C enum
 * is the compiler's choice, and a binding in Rust, Zig or Go must know it exactly.
 */

/** Severity for `host_log`: one of TOKENHUB_LOG_*. */
typedef int32_t tokenhub_log_level;
enum {
    TOKENHUB_LOG_DEBUG = 0,
    TOKENHUB_LOG_INFO = 1,
    TOKENHUB_LOG_WARNING = 2,
    TOKENHUB_LOG_ERROR = 3
};

/** Kind of measurement for `host_metric_record`: one of TOKENHUB_METRIC_*. */
typedef int32_t tokenhub_metric_kind;
enum {
    /** Adds `value` (>= 0) to a counter. */
    TOKENHUB_METRIC_COUNTER = 0,
    /** Sets a gauge to `value`. */
    TOKENHUB_METRIC_GAUGE = 1,
    /** Records one observation of `value` in a histogram. */
    TOKENHUB_METRIC_HISTOGRAM = 2
};

/**
 * Where a synchronous call writes its error message: the callee copies at most
 * `capacity - 1` bytes of UTF-8 into `data` and NUL-terminates it.
 * OWNERSHIP: the caller owns `data`; the callee only writes into it, during the call.
 */
typedef struct tokenhub_error_buffer {
    char *data;
    size_t capacity;
} tokenhub_error_buffer;

/** An instance of a plugin, created by a factory. Opaque to the host. */
typedef struct tokenhub_instance tokenhub_instance;

/* ---------------------------------------------------------------------------------------- */
/* 2. Completion                                                                            */
/* ---------------------------------------------------------------------------------------- */

/**
 * Completes an asynchronous call. Invoked exactly once per call, from any thread, possibly
 * before the call that started the operation has returned.
 *
 * - `user_data`: the pointer the caller passed when it started the operation, unchanged.
 * - `status`: TOKENHUB_OK or an error code.
 * - `result`: the result JSON (schema named by the operation); may be empty on error.
 * - `error_message`: UTF-8 text when `status` is an error, else empty.
 *
 * OWNERSHIP: `result` and `error_message` are borrowed for the duration of this callback;
 *            the receiver copies what it keeps.
 * THREAD: any thread. The callback must not block on I/O: copy, hand off, return.
 */
typedef void (*tokenhub_completion_fn)(void *user_data, tokenhub_status status,
                                       tokenhub_slice result, tokenhub_slice error_message);

/* ---------------------------------------------------------------------------------------- */
/* 3. The host table (host -> plugin)                                                       */
/* ---------------------------------------------------------------------------------------- */

/**
 * What the host offers a plugin instance. Passed to `create`; valid until the instance's
 * `destroy` returns. Plugins never link against host symbols: everything goes through here.
 * Every function takes `host_context` as its first argument, exactly as given in this table.
 *
 * OWNERSHIP: the host owns the table; the plugin keeps the pointer, never copies the struct
 *            (fields appended by later minors would be lost) and never writes to it.
 */
typedef struct tokenhub_host {
    /** sizeof(tokenhub_host) as the host compiled it. Read fields past it only if present. */
    size_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    /** Opaque; pass it back as the first argument of every host function. */
    void *host_context;

    /**
     * Writes a line to the host's log, tagged with the plugin's name.
     * OWNERSHIP: `message` borrowed for the call. THREAD: any. Never blocks on I/O.
     */
    void (*host_log)(void *host_context, tokenhub_log_level level, tokenhub_slice message);

    /**
     * Publishes an event to the telemetry plugins (their `on_event`) and the host's debug log.
     * `event_json` is an object with at least `"type"` (string).
     * OWNERSHIP: borrowed for the call. THREAD: any. Never blocks on I/O.
     */
    void (*host_emit_event)(void *host_context, tokenhub_slice event_json);

    /**
     * Records a metric. `name` follows Prometheus naming (`tokenhub_temporal_polls_total`);
     * `labels_json` is a flat JSON object of string values, or empty for none.
     * OWNERSHIP: borrowed for the call. THREAD: any. Never blocks on I/O.
     */
    void (*host_metric_record)(void *host_context, tokenhub_metric_kind kind,
                               tokenhub_slice name, tokenhub_slice labels_json, double value);

    /**
     * Routes one chat request and sends it to a provider, with the engine's failover, until
     * the input's `deadline_unix_ms` at the latest. Input: ChatInput JSON. Answers:
     *   TOKENHUB_OK               -> result is the ChatOutput.
     *   TOKENHUB_ERR_UPSTREAM     -> every provider tried failed, or no model was eligible:
     *                                a ChatOutput whose `error` and `error_class` say why.
     *                                A dispatcher passes it on as its own answer.
     *   TOKENHUB_ERR_INVALID_ARGUMENT -> the input is not a ChatInput; the message names the field.
     *   TOKENHUB_ERR_CANCELLED    -> cancelled through `host_cancel`.
     *   TOKENHUB_ERR_UNAVAILABLE  -> the host is stopping. A dispatcher answers the request
     *                                TOKENHUB_ERR_UNAVAILABLE itself (it has not been served),
     *                                so that the host may offer it elsewhere.
     * OWNERSHIP: `chat_input_json` borrowed for the call (the host copies it before
     *            returning). THREAD: any. Returns at once; `done` fires exactly once, possibly
     *            before this returns. `user_data` names the call for `host_cancel`.
     */
    void (*host_route_and_send)(void *host_context, tokenhub_slice chat_input_json,
                                tokenhub_completion_fn done, void *user_data);

    /**
     * Runs one orchestration (planning, adversarial, vote, refine) in the engine.
     * Input: OrchestrationInput JSON. Result: ChatOutput JSON.
     * OWNERSHIP, THREAD: as host_route_and_send.
     */
    void (*host_orchestrate)(void *host_context, tokenhub_slice orchestration_input_json,
                             tokenhub_completion_fn done, void *user_data);

    /**
     * Records the outcome of a request once: request log, reward entry, metrics, events.
     * Input: LogResult JSON. Keyed by `request_id`: logging the same id twice stores it once.
     * Result: empty on success.
     * WHEN TO USE IT: since 1.3 the host records every request a dispatcher answers (from the
     * ChatOutput it returns, tagged with the instance name), so a dispatcher does not call this
     * for its ordinary requests. Call it for work the host does not see through on_chat /
     * on_plan: a durable workflow that finishes after the host stopped waiting, or requests
     * the plugin serves on its own. A record for an id the host already recorded is skipped.
     * OWNERSHIP, THREAD: as host_route_and_send.
     */
    void (*host_log_result)(void *host_context, tokenhub_slice log_result_json,
                            tokenhub_completion_fn done, void *user_data);

    /**
     * Since 1.3: the instance's configured name (`name:` in the config, else the plugin's own
     * name), e.g. "canary". Tag what the instance records with it. UTF-8, not NUL-terminated.
     * OWNERSHIP: the host's; valid as long as the table. Read only when `struct_size` covers it.
     */
    tokenhub_slice instance_name;

    /**
     * Since 1.3: cancels this instance's running `host_route_and_send` / `host_orchestrate`
     * calls that were started with `user_data` (every one, if several share it). Each then
     * completes promptly with TOKENHUB_ERR_CANCELLED, or with its result if it finished
     * first: `done` still fires exactly once. A `user_data` with no running call is ignored.
     * THREAD: any. Never blocks.
     */
    void (*host_cancel)(void *host_context, void *user_data);

    /*
     * Since 1.3: JSON helpers, so that a plugin in C needs no JSON parser of its own. Each is
     * synchronous, does no I/O and never blocks. Each writes its output (UTF-8, not
     * NUL-terminated) into the caller's `out` buffer of `capacity` bytes and returns the
     * output's full length, or a negative status. When the length is more than `capacity`,
     * nothing is written: call again with a buffer that large (`out` may be NULL with
     * `capacity` 0 to ask for the length).
     * Paths are JSON Pointers (RFC 6901): "/request/messages/0/content", "" for the whole.
     * OWNERSHIP: every input is borrowed for the call; `out` is the caller's.
     */

    /**
     * The value at `pointer` in `json`: a string unescaped (its UTF-8 text), anything else
     * as compact JSON text. Errors: TOKENHUB_ERR_INVALID_ARGUMENT (`json` is not JSON or
     * `pointer` is malformed), TOKENHUB_ERR_NOT_FOUND (no such member or index).
     */
    int64_t (*host_json_get)(void *host_context, tokenhub_slice json, tokenhub_slice pointer,
                             uint8_t *out, size_t capacity);

    /**
     * A copy of `json` (compact) with the value at `pointer` replaced by `value_json` (JSON
     * text: a string value is written with its quotes, "\"gpt-4o\""); an object member that
     * does not exist is added. Errors: TOKENHUB_ERR_INVALID_ARGUMENT (`json` or `value_json`
     * is not JSON, `pointer` is malformed or ""), TOKENHUB_ERR_NOT_FOUND (the parent does not
     * exist, or an array index is past the end).
     */
    int64_t (*host_json_set)(void *host_context, tokenhub_slice json, tokenhub_slice pointer,
                             tokenhub_slice value_json, uint8_t *out, size_t capacity);

    /**
     * A ChatOutput carrying an error, to complete a call with TOKENHUB_ERR_UPSTREAM:
     * `error_class` is one of the ChatOutput error classes ("transient", "fatal", ...;
     * anything else is TOKENHUB_ERR_INVALID_ARGUMENT) and `message` any UTF-8 text (escaped
     * by the host).
     */
    int64_t (*host_chat_error)(void *host_context, tokenhub_slice error_class, tokenhub_slice message,
                               uint8_t *out, size_t capacity);
} tokenhub_host;

/* ---------------------------------------------------------------------------------------- */
/* 4. The dispatch vtable (plugin -> host hooks)                                            */
/* ---------------------------------------------------------------------------------------- */

/**
 * A dispatcher decides how a request is executed (directly, as a durable workflow, on
 * another cluster...). The host keeps an ordered chain of dispatcher instances; the first
 * that does not answer TOKENHUB_ERR_UNAVAILABLE serves the request.
 *
 * Lifecycle of an instance: create -> start -> on_chat / on_plan ... -> stop -> destroy.
 * `on_chat` and `on_plan` are only called between a successful `start` and `stop`.
 */
typedef struct tokenhub_dispatch_vtable {
    /** sizeof(tokenhub_dispatch_vtable) as the plugin compiled it. */
    size_t struct_size;

    /**
     * Creates an instance from its configuration (a JSON object: the plugin's `config`
     * section from config.yaml, or `{}`). Validates the configuration and allocates; must
     * not do I/O beyond reading local files.
     * On success writes the new instance to `*out_instance` and returns TOKENHUB_OK.
     * On failure returns an error and writes a message naming the bad field into `error`.
     * OWNERSHIP: `host` stays valid until `destroy` returns; `config_json` is borrowed.
     *            The instance belongs to the plugin; the host releases it with `destroy`.
     * THREAD: any; never concurrently for the same instance.
     */
    tokenhub_status (*create)(const tokenhub_host *host, tokenhub_slice config_json,
                              tokenhub_instance **out_instance, tokenhub_error_buffer error);

    /**
     * Starts background work (connections, pollers). Returns at once; a dispatcher whose
     * backend is not reachable yet starts anyway and answers TOKENHUB_ERR_UNAVAILABLE until
     * it is. An error here means the instance cannot work at all.
     * THREAD: any; called once, before any on_chat / on_plan.
     */
    tokenhub_status (*start)(tokenhub_instance *instance, tokenhub_error_buffer error);

    /**
     * Serves one chat request, by the input's `deadline_unix_ms`. Input: ChatInput JSON.
     * `done` receives a ChatOutput JSON:
     *   TOKENHUB_OK            -> served; result is the ChatOutput.
     *   TOKENHUB_ERR_UNAVAILABLE -> not served; the host tries the next dispatcher. The
     *                            dispatcher must not have called a provider for it.
     *   TOKENHUB_ERR_UPSTREAM  -> served, and the provider failed: ChatOutput with `error`.
     *   anything else          -> served with an error; message in `error_message`.
     * The host records the request's outcome from this answer (it need not call
     * `host_log_result`). To serve with the engine, call `host_route_and_send` and complete
     * with what it answers, passing `done` and `user_data` straight through if nothing else
     * is to be done.
     * OWNERSHIP: `chat_input_json` is borrowed for the call: copy it before returning.
     * THREAD: any, concurrently. Returns at once; `done` fires exactly once. `user_data` is
     *         unique among running calls (it names the call for `on_cancel`). The host stops
     *         waiting a few seconds after the deadline and ignores a later `done`.
     */
    void (*on_chat)(tokenhub_instance *instance, tokenhub_slice chat_input_json,
                    tokenhub_completion_fn done, void *user_data);

    /**
     * Serves one orchestration request. Input: OrchestrationInput JSON; result and
     * statuses as on_chat. May be NULL: the host then passes plans to the next dispatcher.
     * OWNERSHIP, THREAD: as on_chat.
     */
    void (*on_plan)(tokenhub_instance *instance, tokenhub_slice orchestration_input_json,
                    tokenhub_completion_fn done, void *user_data);

    /**
     * Stops the instance: let running requests finish (drain), stop background work. `done`
     * fires once everything has stopped (result empty). The contract is every kind's (see
     * LIFECYCLE at the top): no hook is running when it is called; pending completions may be.
     * THREAD: any; called once. Returns at once; `done` fires exactly once.
     */
    void (*stop)(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data);

    /**
     * Frees the instance. Called once, after `stop` completed (or after `create` succeeded
     * and `start` failed). No callback of this instance may fire after `destroy` returns.
     * THREAD: any; called once.
     */
    void (*destroy)(tokenhub_instance *instance);

    /**
     * Since 1.3; may be NULL. Cancels the running on_chat / on_plan call started with
     * `user_data`: the host calls it when the request's deadline passes (and when it stops
     * waiting for another reason). Stop the work as you can (cancel your own
     * `host_route_and_send` with `host_cancel`) and complete the call: `done` still fires
     * exactly once, with TOKENHUB_ERR_CANCELLED or whatever it had. The host may already have
     * stopped waiting and ignores that `done`. A cancel can race with the call's own `done`:
     * a `user_data` with no running call is ignored.
     * THREAD: any, concurrently with the call's own hooks. Returns at once.
     */
    void (*on_cancel)(tokenhub_instance *instance, void *user_data);
} tokenhub_dispatch_vtable;

/* ---------------------------------------------------------------------------------------- */
/* 4b. The store vtable (since ABI 1.1)                                                     */
/* ---------------------------------------------------------------------------------------- */

/**
 * A store persists what the host records (request logs today; keys, registry, audit and
 * time series as their operations are added). Operators swap backends by config, so every
 * store speaks the same named operations (section 6) with the same JSON shapes; a store
 * answers TOKENHUB_ERR_NOT_SUPPORTED for an operation it does not know.
 *
 * Lifecycle: create -> start -> on_call ... -> stop (flush) -> destroy.
 */
typedef struct tokenhub_store_vtable {
    /** sizeof(tokenhub_store_vtable) as the plugin compiled it. */
    size_t struct_size;

    /**
     * Creates an instance from its `config` object (e.g. {"path": "tokenhub.db"}). Validates
     * and allocates; no I/O beyond checking paths. Errors name the bad field.
     * OWNERSHIP, THREAD: as the dispatch vtable's create.
     */
    tokenhub_status (*create)(const tokenhub_host *host, tokenhub_slice config_json,
                              tokenhub_instance **out_instance, tokenhub_error_buffer error);

    /**
     * Opens the backend and migrates its schema. `done` fires once, with an error message
     * naming the path or server when that fails (the host then refuses to start).
     * THREAD: any; called once. Returns at once.
     */
    void (*start)(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data);

    /**
     * Runs one named operation, e.g. "request_log.append", with its input JSON; `done`
     * receives its result JSON. Writes may be batched: `done` fires once the write is
     * durable as far as the store promises (its documentation says what a crash can lose).
     * OWNERSHIP: `operation` and `request_json` are borrowed for the call: copy them.
     * THREAD: any, concurrently. Returns at once; `done` fires exactly once.
     */
    void (*on_call)(tokenhub_instance *instance, tokenhub_slice operation, tokenhub_slice request_json,
                    tokenhub_completion_fn done, void *user_data);

    /**
     * Flushes every queued write, then stops. `done` fires when nothing is left to write.
     * The contract is every kind's (LIFECYCLE at the top): no hook is running when it is
     * called; pending completions may be, and fire before `done`.
     * THREAD: any; called once. Returns at once.
     */
    void (*stop)(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data);

    /** Frees the instance. Called once, after `stop` completed or `start` failed. */
    void (*destroy)(tokenhub_instance *instance);
} tokenhub_store_vtable;

/* ---------------------------------------------------------------------------------------- */
/* 4c. The telemetry vtable (since ABI 1.2)                                                 */
/* ---------------------------------------------------------------------------------------- */

/**
 * A telemetry plugin observes: the host hands it every request's result, every metric
 * recorded through `host_metric_record` and every event published through `host_emit_event`
 * (by the host or any plugin), and asks it for its
 * metrics in Prometheus text format when `GET /metrics` is scraped. Several may be
 * configured; each sees everything. The observing hooks sit on the request path: they copy
 * what they need and return, never waiting on I/O or on a lock held across I/O.
 *
 * Lifecycle: create -> on_result / on_metric / on_scrape ... -> stop -> destroy.
 */
typedef struct tokenhub_telemetry_vtable {
    /** sizeof(tokenhub_telemetry_vtable) as the plugin compiled it. */
    size_t struct_size;

    /**
     * Creates an instance from its `config` object. Validates and allocates; no I/O.
     * OWNERSHIP, THREAD: as the dispatch vtable's create.
     */
    tokenhub_status (*create)(const tokenhub_host *host, tokenhub_slice config_json,
                              tokenhub_instance **out_instance, tokenhub_error_buffer error);

    /**
     * One request's outcome, as LogResult JSON (section 6), once per request id.
     * OWNERSHIP: `log_result_json` is borrowed for the call: copy it. THREAD: any,
     * concurrently. Returns promptly (no I/O).
     */
    void (*on_result)(tokenhub_instance *instance, tokenhub_slice log_result_json);

    /**
     * One measurement recorded through `host_metric_record`, with the same arguments.
     * OWNERSHIP, THREAD: as on_result.
     */
    void (*on_metric)(tokenhub_instance *instance, tokenhub_metric_kind kind,
                      tokenhub_slice name, tokenhub_slice labels_json, double value);

    /**
     * One event published through `host_emit_event`: a JSON object with at least "type".
     * The host publishes {"type": "provider_health", "provider", "state": "healthy" |
     * "degraded" | "down"} when a provider's state changes, and its own events (route_success,
     * route_error, escalation, key_revoked, budget_exceeded, config_reloaded, config_rejected,
     * plugin_loaded, plugin_failed, store_degraded, store_recovered, heartbeat). Every event also carries "sequence" and
     * "time_unix_ms", and "request_id" where there is one; never a prompt, answer or secret.
     * OWNERSHIP, THREAD: as on_result.
     */
    void (*on_event)(tokenhub_instance *instance, tokenhub_slice event_json);

    /**
     * The instance's metrics in Prometheus text exposition format 0.0.4 (`# HELP`, `# TYPE`
     * and sample lines), for `GET /metrics`; `done` receives the text as its result (empty
     * for none). The host concatenates the texts of every telemetry plugin, so metric names
     * must not repeat across plugins.
     * THREAD: any. Returns at once; `done` fires exactly once.
     */
    void (*on_scrape)(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data);

    /**
     * Flushes what the plugin exports elsewhere (if anything), then stops. `done` fires once.
     * The contract is every kind's (LIFECYCLE at the top): no hook is running when it is
     * called; a pending `on_scrape` completion fires before `done`.
     * THREAD: any; called once. Returns at once.
     */
    void (*stop)(tokenhub_instance *instance, tokenhub_completion_fn done, void *user_data);

    /** Frees the instance. Called once, after `stop` completed. */
    void (*destroy)(tokenhub_instance *instance);
} tokenhub_telemetry_vtable;

/* ---------------------------------------------------------------------------------------- */
/* 5. The descriptor and the entry function                                                 */
/* ---------------------------------------------------------------------------------------- */

/**
 * What a plugin library offers. A library may offer several kinds; a kind it does not offer
 * is NULL. Kinds arriving in later minors are appended (read one only when `struct_size`
 * covers it): `store` since 1.1, `telemetry` since 1.2.
 * OWNERSHIP: static data of the plugin, valid for the life of the process.
 */
typedef struct tokenhub_plugin_descriptor {
    /** sizeof(tokenhub_plugin_descriptor) as the plugin compiled it. */
    size_t struct_size;
    /** Must equal the host's TOKENHUB_ABI_MAJOR, or the host refuses the plugin. */
    uint32_t abi_major;
    /** The minor the plugin was built against. */
    uint32_t abi_minor;
    /** Short name, e.g. "direct". NUL-terminated UTF-8. */
    const char *name;
    /** The plugin's own version, e.g. "1.2.0". NUL-terminated UTF-8. */
    const char *version;
    /** The dispatcher factory, or NULL if this library offers none. */
    const tokenhub_dispatch_vtable *dispatch;
    /** Since 1.1: the store factory, or NULL. */
    const tokenhub_store_vtable *store;
    /** Since 1.2: the telemetry factory, or NULL. */
    const tokenhub_telemetry_vtable *telemetry;
} tokenhub_plugin_descriptor;

/**
 * The one symbol every plugin library exports, under the name TOKENHUB_PLUGIN_ENTRY_SYMBOL.
 * Returns the plugin's descriptor. Must not fail, allocate per call, or do I/O.
 * OWNERSHIP: the descriptor is static data of the plugin.
 * THREAD: any; the host calls it once per load.
 */
typedef const tokenhub_plugin_descriptor *(*tokenhub_plugin_entry_fn)(void);

/**
 * Since 1.3: exports a symbol from the plugin library even when it is built with hidden
 * visibility (`-fvisibility=hidden`, recommended: the entry is then the library's only
 * exported symbol).
 */
#if defined(_WIN32)
#define TOKENHUB_EXPORT __declspec(dllexport)
#else
#define TOKENHUB_EXPORT __attribute__((visibility("default")))
#endif

/**
 * Since 1.3: the entry function's prototype, exported, so that plugins compile with
 * -Wmissing-prototypes and define it simply as
 *     const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void) { return &descriptor; }
 */
TOKENHUB_EXPORT const tokenhub_plugin_descriptor *tokenhub_plugin_entry(void);

#ifndef __cplusplus
/* Each struct's layout as this header defines it: every field after `struct_size` is one
   pointer (or a slice) wide, so an FFI binding in another language can check its copy. */
_Static_assert(sizeof(tokenhub_dispatch_vtable) == 8 * sizeof(void *), "tokenhub_dispatch_vtable layout");
_Static_assert(sizeof(tokenhub_store_vtable) == 6 * sizeof(void *), "tokenhub_store_vtable layout");
_Static_assert(sizeof(tokenhub_telemetry_vtable) == 8 * sizeof(void *), "tokenhub_telemetry_vtable layout");
_Static_assert(sizeof(tokenhub_slice) == 2 * sizeof(void *), "tokenhub_slice layout");
_Static_assert(sizeof(tokenhub_host) == 15 * sizeof(void *), "tokenhub_host layout");
_Static_assert(sizeof(tokenhub_plugin_descriptor) == 7 * sizeof(void *), "tokenhub_plugin_descriptor layout");
#endif

/* ---------------------------------------------------------------------------------------- */
/* 6. Payload schemas (UTF-8 JSON; unknown fields are ignored by readers)                   */
/* ---------------------------------------------------------------------------------------- */

/*
 * ChatInput:
 *   {
 *     "request_id":  string,            unique per request; workflow ids derive from it
 *     "api_key_id":  string,            "" when no API key was used
 *     "idempotency_key"?: string,       the client's Idempotency-Key header, when it sent one:
 *                                       a durable dispatcher answers a repeat (same key, same
 *                                       api_key_id) with the first request's answer
 *     "deadline_unix_ms"?: int,         since 1.3, always sent by the host: the request's one
 *                                       deadline (Unix ms). Absent or 0: none
 *     "traceparent"?: string,           since 1.3: the client's W3C traceparent header, when it
 *                                       sent a valid one; the engine passes it on to providers
 *     "request": {
 *       "messages": [ { "role": "system"|"user"|"assistant"|"tool", "content": any, ... } ],
 *       "model_hint": string,           "" lets the router choose; an unknown id is ignored...
 *       "model_strict": bool,           since 1.3: ...unless true: then the request goes to
 *                                       `model_hint` or fails with error_class "unknown_model"
 *       "estimated_input_tokens": int,  0 = estimate from the messages
 *       "parameters": object,           passed to the provider (temperature, tools, ...)
 *       "stream": bool,
 *       "output_schema": object|null
 *     },
 *     "policy": {
 *       "mode": "cheap"|"normal"|"high_confidence"|"planning"|"adversarial",
 *       "max_budget_usd": number, "max_latency_ms": int, "min_weight": int
 *     }
 *   }
 *
 * OrchestrationInput:
 *   {
 *     "request_id": string, "api_key_id": string,
 *     "idempotency_key"?: string, "deadline_unix_ms"?: int,    as in ChatInput
 *     "traceparent"?: string,           as in ChatInput
 *     "request": object,                as in ChatInput
 *     "directive": { "mode": "planning"|"adversarial"|"vote"|"refine", "iterations": int,
 *                    "primary_model_id": string, "review_model_id": string,
 *                    "primary_min_weight": int, "review_min_weight": int }
 *   }
 *
 * ChatOutput:
 *   {
 *     "decision": { "model_id": string, "provider_id": string,
 *                   "estimated_cost_usd": number, "reason": string },
 *     "response":    object,            the provider's answer (OpenAI chat completion shape)
 *     "latency_ms":  int,
 *     "error":       string,            "" on success
 *     "error_class": string,            "" | "context_overflow" | "rate_limited" |
 *                                        "transient" | "fatal" | "no_eligible_model" |
 *                                        "unknown_model" (since 1.3: a strict pin failed)
 *     "attempts"?: [ {                  since 1.3: each provider call the engine made, in
 *       "provider": string, "model": string,    order (retries and switches included);
 *       "start_unix_ms": number, "duration_ms": number,    absent when none was made.
 *       "error_class"?: string } ]      Tracing exporters draw them as spans
 *   }
 *
 * LogResult (what `host_log_result` takes):
 *   {
 *     "request_id": string, "api_key_id": string, "kind": "chat"|"plan", "mode": string,
 *     "output": ChatOutput,             of its "response" the host reads only "usage": send
 *                                       just that
 *     "dispatcher": string,             the instance name (host table `instance_name`)
 *     "budget_usd"?: number, "max_latency_ms"?: int    the request's limits; its reward is
 *                                                      scored against them (0 = defaults)
 *     "traceparent"?: string            since 1.3: the input's, for tracing exporters
 *   }
 *
 * Store operations (on_call), input -> result:
 *   "request_log.append"  RequestLogRow -> { "stored": bool }   false when the request_id was
 *                          already stored: the same request logged twice is kept once.
 *   "request_log.append_batch"  { "rows": [RequestLogRow + "reward"?: RewardRow + "points"?: [Point]] }
 *                          -> { "stored": int }  A row's reward and points are written with it, in
 *                          one transaction, and only when the row is new (duplicates skipped).
 *   "request_log.list"    { "limit": int (1-1000, default 50), "offset": int, "api_key_id"?: string,
 *                            since 1.3: "model_id"?, "provider_id"?, "status"?, "error_class"?: string,
 *                            "since_unix_ms"?: int (rows at or after), "until_unix_ms"?: int (rows before) }
 *                          -> { "rows": [RequestLogRow, newest first], "total": int }   Every filter
 *                          given must hold; "total" counts the filtered rows. 0 or absent: no bound
 *   "request_log.spend"   { "api_key_id": string, "since_unix_ms": int } -> { "usd": number }
 *   "apikey.create"       APIKeyRecord -> { "created": bool }       (false: the id exists)
 *   "apikey.update"       APIKeyRecord -> { "updated": bool }       (replaces the record of its id)
 *   "apikey.delete"       { "id" } -> { "deleted": bool }
 *   "apikey.get"          { "id" } -> { "key": APIKeyRecord | null }
 *   "apikey.get_by_hash"  { "key_hash" } -> { "key": APIKeyRecord | null }
 *   "apikey.list"         {} -> { "keys": [APIKeyRecord without key_hash] }
 *   "audit.append"        { "time_unix_ms", "request_id", "action", "resource", "detail" } -> { "stored": true }
 *   "audit.list"          { "limit", "offset" } -> { "rows": [...newest first] }
 *   "reward.append"       RewardRow -> { "stored": bool }   (one per request_id)
 *   "reward.list"         { "limit", "offset", "model_id"?, "mode"?, "since_unix_ms"? }
 *                          -> { "rows": [RewardRow, newest first], "total": int }
 *   "reward.summary"      { "model_id"?, "mode"?, "since_unix_ms"? } -> { "models": [{ "model_id",
 *                          "count", "mean_reward", "success_rate", "mean_latency_ms", "total_cost_usd" }] }
 *   "tsdb.append_batch"   { "points": [Point] } -> { "stored": int }
 *   "tsdb.query"          { "metric", "model_id"?, "provider_id"?, "start_unix_ms", "end_unix_ms",
 *                          "step_ms" (at most 10000 steps) } -> { "metric", "step_ms", "points":
 *                          [{ "time_unix_ms" (bucket start), "count", "sum", "avg", "min", "max" }] }
 *   "tsdb.prune"          { "before_unix_ms" } -> { "deleted": int }
 *   "provider.upsert", "model.upsert"   { "record": object with "id", "only_if_absent"?: bool }
 *                          -> { "stored": bool }   records are the host's; the store keeps them
 *   "provider.list", "model.list"       {} -> { "records": [object, by id] }
 *   "provider.delete", "model.delete"   { "id" } -> { "deleted": bool }
 *   "routing_config.get"  {} -> { "value": object | null }
 *   "routing_config.put"  { "value": object } -> { "stored": true }
 *
 * Optional operations (a store that answers TOKENHUB_ERR_NOT_SUPPORTED still works: the host
 * then checks budgets by spend alone, does not follow other instances' registry changes, and
 * `tokenhub store copy` refuses it, naming the operation):
 *   "budget.reserve"      { "request_id", "api_key_id", "budget_usd" (> 0), "estimate_usd",
 *                          "since_unix_ms" (the period's start), "now_unix_ms", "expires_unix_ms" }
 *                          -> { "admitted": bool, "spent_usd", "reserved_usd" }  Atomically
 *                          across every instance using the store: admitted when the key's logged
 *                          spend since the period start plus its other live holds is under the
 *                          budget; then holds `estimate_usd` for the request until its
 *                          "request_log.append(_batch)" row (which must delete the hold in the
 *                          same transaction) or `expires_unix_ms`.
 *   "budget.release"      { "request_id" } -> { "released": bool }
 *   "store.revision"      {} -> { "revision": int }  a counter every write to keys, providers,
 *                          models and settings increments (other instances poll it)
 *   "copy.export"         { "kind", "after": cursor ("" = start), "limit" (1-5000) }
 *                          -> { "rows": [...], "next": cursor of the last row ("" when none) }
 *                          kinds: providers, models, routing_config, api_keys (with key_hash),
 *                          request_logs, audit, rewards, tsdb_points; rows in a stable order
 *   "copy.import"         { "kind", "source", "cursor", "rows" } -> { "stored": int }  writes
 *                          the rows (keyed kinds insert-if-absent) and records `cursor` as how
 *                          far `source` was copied, in one transaction
 *   "copy.progress"       { "kind", "source" } -> { "cursor" }   "" when never copied
 *
 * APIKeyRecord (the key itself is never stored, only its SHA-256 as lowercase hex):
 *   { "id", "name", "key_hash", "key_prefix", "scopes": ["chat"|"plan"] (empty = all),
 *     "enabled": bool, "expires_unix_ms": int (0 = never), "monthly_budget_usd": number (0 = none),
 *     "rate_limit_rps": number (0 = none), "created_unix_ms": int, "rotated_unix_ms": int }
 *
 * RequestLogRow:
 *   { "request_id", "time_unix_ms": int, "api_key_id", "kind", "mode", "model_id", "provider_id",
 *     "dispatcher", "estimated_cost_usd": number, "latency_ms": int,
 *     "status": "ok"|"error", "error_class": string }
 *
 * RewardRow:
 *   { "request_id", "time_unix_ms", "api_key_id", "kind", "mode", "model_id", "provider_id",
 *     "success": bool, "cost_usd": number, "latency_ms": int, "reward": number (0-1) }
 *
 * Point (TSDB): { "metric", "model_id", "provider_id", "time_unix_ms": int, "value": number }
 */

#ifdef __cplusplus
}
#endif

#endif /* TOKENHUB_PLUGIN_H */
