/// libFuzzer harness for TokenHubCore's JSON parser and writer (built by scripts/fuzz.sh
/// with `swiftc -sanitize=fuzzer,address` over TokenHubCore's sources).
///
/// Checks, beyond "no crash": a value that parses serializes to text that parses back to
/// the same value, and reading selected members (`parseMembers`) agrees with a full parse.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    let text = value.serialized
    guard let again = try? JSONValue.parse(text) else {
        fatalError("serialized text does not parse: \(String(decoding: text, as: UTF8.self))")
    }
    precondition(again == value, "round trip changed the value: \(value) → \(again)")
    if case .object(let members) = value {
        let wanted = Set(members.keys.prefix(3))
        if let selected = try? JSONValue.parseMembers(wanted, of: bytes) {
            for key in wanted { precondition(selected[key] == members[key], "parseMembers disagrees on \(key)") }
        }
    }
    return 0
}
