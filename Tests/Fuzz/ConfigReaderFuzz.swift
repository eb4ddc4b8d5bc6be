/// libFuzzer harness for the config reader (built by scripts/fuzz.sh: Yams and its C parser
/// instrumented, and the config sources compiled into one module with their sibling imports
/// removed, since the reader needs only TokenHubCore, the registry specs and TemporalTLS).
///
/// Checks, beyond "no crash": every refusal is a `ConfigError` that names its source and
/// says what is wrong.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try ConfigLoader.parse(yaml: text, source: "fuzz.yaml", environment: ["X": "7"])
    } catch {
        precondition(error.source == "fuzz.yaml" && !error.message.isEmpty, "a ConfigError without its source or message")
    }
    return 0
}
