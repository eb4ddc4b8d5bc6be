//! canary: the TokenHub dispatch plugin of `examples/canary-c`, in Rust with `std` only.
//!
//! A request whose first user message contains the configured tag goes to the configured
//! model, strictly (`model_strict`); every other request is declined with
//! `TOKENHUB_ERR_UNAVAILABLE`, so the next dispatcher serves it.
//! Config: `{"tag": "#canary", "model": "canary-model"}`.
//!
//! The bindings below are written by hand from `tokenhub_plugin.h` (section by section, the
//! same field order); `_Static_assert`s there and the size checks here keep them honest.
//! Built with `panic = "abort"`: no unwinding may cross the C boundary.

use std::os::raw::{c_char, c_void};
use std::ptr;

// ---- The ABI (tokenhub_plugin.h), as much as this plugin uses ----

const ABI_MAJOR: u32 = 1;
const ABI_MINOR: u32 = 3;
const OK: i32 = 0;
const ERR_INVALID_ARGUMENT: i32 = -1;
const ERR_UNAVAILABLE: i32 = -2;
const ERR_NOT_SUPPORTED: i32 = -4;
const ERR_INTERNAL: i32 = -7;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Slice {
    ptr: *const u8,
    len: usize,
}

impl Slice {
    fn of(bytes: &[u8]) -> Slice {
        Slice { ptr: bytes.as_ptr(), len: bytes.len() }
    }
    /// The borrowed bytes. Safety: only during the call that received the slice.
    unsafe fn bytes<'a>(self) -> &'a [u8] {
        if self.ptr.is_null() { &[] } else { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

type Completion = extern "C" fn(user_data: *mut c_void, status: i32, result: Slice, error_message: Slice);

#[repr(C)]
pub struct ErrorBuffer {
    data: *mut c_char,
    capacity: usize,
}

impl ErrorBuffer {
    fn write(&self, message: &str) {
        if self.data.is_null() || self.capacity == 0 { return; }
        let n = message.len().min(self.capacity - 1);
        unsafe {
            ptr::copy_nonoverlapping(message.as_ptr(), self.data as *mut u8, n);
            *self.data.add(n) = 0;
        }
    }
}

#[repr(C)]
pub struct Host {
    struct_size: usize,
    abi_major: u32,
    abi_minor: u32,
    host_context: *mut c_void,
    host_log: extern "C" fn(*mut c_void, i32, Slice),
    host_emit_event: extern "C" fn(*mut c_void, Slice),
    host_metric_record: extern "C" fn(*mut c_void, i32, Slice, Slice, f64),
    host_route_and_send: extern "C" fn(*mut c_void, Slice, Completion, *mut c_void),
    host_orchestrate: extern "C" fn(*mut c_void, Slice, Completion, *mut c_void),
    host_log_result: extern "C" fn(*mut c_void, Slice, Completion, *mut c_void),
    // Since 1.3:
    instance_name: Slice,
    host_cancel: extern "C" fn(*mut c_void, *mut c_void),
    host_json_get: extern "C" fn(*mut c_void, Slice, Slice, *mut u8, usize) -> i64,
    host_json_set: extern "C" fn(*mut c_void, Slice, Slice, Slice, *mut u8, usize) -> i64,
    host_chat_error: extern "C" fn(*mut c_void, Slice, Slice, *mut u8, usize) -> i64,
}

#[repr(C)]
pub struct DispatchVTable {
    struct_size: usize,
    create: unsafe extern "C" fn(*const Host, Slice, *mut *mut Canary, ErrorBuffer) -> i32,
    start: extern "C" fn(*mut Canary, ErrorBuffer) -> i32,
    on_chat: unsafe extern "C" fn(*mut Canary, Slice, Completion, *mut c_void),
    on_plan: Option<unsafe extern "C" fn(*mut Canary, Slice, Completion, *mut c_void)>,
    stop: unsafe extern "C" fn(*mut Canary, Completion, *mut c_void),
    destroy: unsafe extern "C" fn(*mut Canary),
    on_cancel: Option<unsafe extern "C" fn(*mut Canary, *mut c_void)>, // since 1.3
}

#[repr(C)]
pub struct Descriptor {
    struct_size: usize,
    abi_major: u32,
    abi_minor: u32,
    name: *const c_char,
    version: *const c_char,
    dispatch: *const DispatchVTable,
    store: *const c_void,
    telemetry: *const c_void,
}

const _: () = assert!(std::mem::size_of::<Host>() == 15 * std::mem::size_of::<usize>());
const _: () = assert!(std::mem::size_of::<DispatchVTable>() == 8 * std::mem::size_of::<usize>());
const _: () = assert!(std::mem::size_of::<Descriptor>() == 7 * std::mem::size_of::<usize>());

// ---- The plugin ----

pub struct Canary {
    host: *const Host,
    tag: String,
    model_json: Vec<u8>, // the model id as a JSON string, quotes included
}

impl Canary {
    fn host(&self) -> &Host {
        unsafe { &*self.host }
    }
}

/// Calls a host JSON helper twice: for the length, then into a buffer that large.
fn with_buffer(call: impl Fn(*mut u8, usize) -> i64) -> Option<Vec<u8>> {
    let len = usize::try_from(call(ptr::null_mut(), 0)).ok()?;
    let mut out = vec![0u8; len];
    (call(out.as_mut_ptr(), len) == len as i64).then_some(out)
}

fn json_get(host: &Host, json: &[u8], path: &str) -> Option<Vec<u8>> {
    with_buffer(|out, cap| (host.host_json_get)(host.host_context, Slice::of(json), Slice::of(path.as_bytes()), out, cap))
}

fn json_set(host: &Host, json: &[u8], path: &str, value: &[u8]) -> Option<Vec<u8>> {
    with_buffer(|out, cap| {
        (host.host_json_set)(host.host_context, Slice::of(json), Slice::of(path.as_bytes()), Slice::of(value), out, cap)
    })
}

/// Whether the first user message contains the tag.
fn tagged(canary: &Canary, input: &[u8]) -> bool {
    for i in 0.. {
        let role = match json_get(canary.host(), input, &format!("/request/messages/{i}/role")) {
            Some(role) => role,
            None => return false,
        };
        if role == b"user" {
            let content = json_get(canary.host(), input, &format!("/request/messages/{i}/content")).unwrap_or_default();
            return content.windows(canary.tag.len()).any(|w| w == canary.tag.as_bytes());
        }
    }
    false
}

unsafe extern "C" fn create(host: *const Host, config: Slice, out: *mut *mut Canary, error: ErrorBuffer) -> i32 {
    let host_ref = &*host;
    // `host_chat_error`, the last field of 1.3, must be there.
    if host_ref.struct_size < std::mem::size_of::<Host>() {
        error.write("canary needs a host with ABI 1.3 or later");
        return ERR_NOT_SUPPORTED;
    }
    let config = config.bytes();
    let tag = json_get(host_ref, config, "/tag").and_then(|t| String::from_utf8(t).ok()).unwrap_or_default();
    let model = json_get(host_ref, config, "/model");
    if tag.is_empty() || model.is_none() {
        error.write("config: expected {\"tag\": non-empty string, \"model\": string}");
        return ERR_INVALID_ARGUMENT;
    }
    let model_json = json_quote(&model.unwrap());
    *out = Box::into_raw(Box::new(Canary { host, tag, model_json }));
    OK
}

/// `text` as a JSON string.
fn json_quote(text: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &byte in text {
        match byte {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
            0..=0x1f => out.extend_from_slice(format!("\\u{byte:04x}").as_bytes()),
            _ => out.push(byte),
        }
    }
    out.push(b'"');
    out
}

extern "C" fn start(_: *mut Canary, _: ErrorBuffer) -> i32 {
    OK
}

unsafe extern "C" fn on_chat(canary: *mut Canary, input: Slice, done: Completion, user_data: *mut c_void) {
    let canary = &*canary;
    let input = input.bytes();
    if !tagged(canary, input) {
        return done(user_data, ERR_UNAVAILABLE, Slice::of(b""), Slice::of(b"not a canary request: the next dispatcher serves it"));
    }
    let rewritten = json_set(canary.host(), input, "/request/model_hint", &canary.model_json)
        .and_then(|pinned| json_set(canary.host(), &pinned, "/request/model_strict", b"true"));
    match rewritten {
        // The host's own completion and user_data go straight through.
        Some(request) => (canary.host().host_route_and_send)(canary.host().host_context, Slice::of(&request), done, user_data),
        None => done(user_data, ERR_INTERNAL, Slice::of(b""), Slice::of(b"canary: could not rewrite the request")),
    }
}

/// The host gave up on a request: cancel the engine call started with the same user_data.
unsafe extern "C" fn on_cancel(canary: *mut Canary, user_data: *mut c_void) {
    let host = (*canary).host();
    (host.host_cancel)(host.host_context, user_data);
}

unsafe extern "C" fn stop(_: *mut Canary, done: Completion, user_data: *mut c_void) {
    done(user_data, OK, Slice::of(b""), Slice::of(b""));
}

unsafe extern "C" fn destroy(canary: *mut Canary) {
    drop(Box::from_raw(canary));
}

static VTABLE: DispatchVTable = DispatchVTable {
    struct_size: std::mem::size_of::<DispatchVTable>(),
    create,
    start,
    on_chat,
    on_plan: None,
    stop,
    destroy,
    on_cancel: Some(on_cancel),
};

struct Static(Descriptor);
unsafe impl Sync for Static {} // immutable static data

static DESCRIPTOR: Static = Static(Descriptor {
    struct_size: std::mem::size_of::<Descriptor>(),
    abi_major: ABI_MAJOR,
    abi_minor: ABI_MINOR,
    name: b"canary-rust\0".as_ptr() as *const c_char,
    version: b"1.0.0\0".as_ptr() as *const c_char,
    dispatch: &VTABLE,
    store: ptr::null(),
    telemetry: ptr::null(),
});

#[no_mangle]
pub extern "C" fn tokenhub_plugin_entry() -> *const Descriptor {
    &DESCRIPTOR.0
}
