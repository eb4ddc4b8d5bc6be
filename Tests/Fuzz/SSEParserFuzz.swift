/// libFuzzer harness for the engine's SSE parser (built by scripts/fuzz.sh with
/// `swiftc -sanitize=fuzzer,address` over SSEParser.swift).
///
/// Checks, beyond "no crash": however the stream is cut into reads (whole, split at a point
/// the first byte chooses, or byte by byte), the same events come out, and an overflow is
/// reported the same way.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSE(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    func events(_ reads: [ArraySlice<UInt8>]) -> [SSEParser.Event]? {
        var parser = SSEParser()
        var out: [SSEParser.Event] = []
        for read in reads {
            guard let more = try? parser.feed(read) else { return nil }
            out += more
        }
        return out
    }
    let whole = events([bytes[...]])
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let split = events([bytes[..<cut], bytes[cut...]])
    precondition(whole == split, "split at \(cut) changed the events")
    if bytes.count < 4096 {
        let single = events(bytes.indices.map { bytes[$0...$0] })
        precondition(whole == single, "byte-by-byte reads changed the events")
    }
    return 0
}
