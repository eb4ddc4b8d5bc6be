import Foundation
import Glibc
import Synchronization
import Testing

@testable import HostRuntime

@Suite("Background log writer")
struct BackgroundLogWriterTests {
    /// Reads a pipe on its own thread until EOF.
    final class PipeReader: Sendable {
        let received = Mutex<[UInt8]>([])
        let finished = DispatchSemaphore(value: 0)

        init(fileDescriptor: Int32) {
            Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress!, $0.count) }
                    if count > 0 {
                        received.withLock { $0.append(contentsOf: buffer[0..<count]) }
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                finished.signal()
            }.start()
        }

        var text: String { received.withLock { String(decoding: $0, as: UTF8.self) } }
    }

    @Test("writes queued lines in order, and flush waits for them")
    func writesInOrder() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reader = PipeReader(fileDescriptor: fds[0])
        let writer = BackgroundLogWriter(fileDescriptor: fds[1])
        for number in 0..<500 { writer.write("line \(number)\n") }
        #expect(writer.flush(timeout: .seconds(10)))
        close(fds[1])
        reader.finished.wait()
        close(fds[0])
        #expect(reader.text == (0..<500).map { "line \($0)\n" }.joined())
        #expect(writer.droppedLines == 0)
    }

    @Test("a reader that falls behind costs dropped lines, counted and reported, never a blocked caller")
    func dropsPastCapacityAndSaysSo() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        // Nobody reads yet: once the pipe's buffer is full the writer thread blocks, the 1 KB
        // queue fills, and `write` must drop instead of waiting.
        let writer = BackgroundLogWriter(fileDescriptor: fds[1], capacityBytes: 1024)
        let line = String(repeating: "x", count: 99) + "\n"
        let started = ContinuousClock.now
        for _ in 0..<3000 { writer.write(line) }
        let queueing = ContinuousClock.now - started
        let dropped = writer.droppedLines
        #expect(dropped > 0)
        #expect(queueing < .seconds(5), "write blocked its caller: \(queueing)")

        let reader = PipeReader(fileDescriptor: fds[0])
        writer.write("end\n")
        #expect(writer.flush(timeout: .seconds(10)))
        close(fds[1])
        reader.finished.wait()
        close(fds[0])
        let lines = reader.text.split(separator: "\n")
        #expect(lines.filter { $0 == Substring(line.dropLast()) }.count == 3000 - dropped)
        #expect(lines.contains { $0.contains("log line(s) dropped") })
        #expect(lines.last == "end")
    }
}
