import PluginAPI

/// Runs a synchronous ABI call with a 1 KiB error buffer; returns its status and message.
func withErrorBuffer(_ body: (tokenhub_error_buffer) -> tokenhub_status) -> (tokenhub_status, String) {
    var storage = [CChar](repeating: 0, count: 1024)
    let status = storage.withUnsafeMutableBufferPointer {
        body(tokenhub_error_buffer(data: $0.baseAddress, capacity: $0.count))
    }
    let message = storage.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return (status, message)
}
