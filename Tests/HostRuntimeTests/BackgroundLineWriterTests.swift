import Foundation
import Glibc
import Synchronization
import Testing

@testable import HostRuntime
import PluginKit

@Suite("Background line writer")
struct BackgroundLineWriterTests {
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
        let writer = BackgroundLineWriter(fileDescriptor: fds[1]) { "\($0) line(s) dropped\n" }
        for number in 0..<500 { writer.write("line \(number)\n") }
        #expect(writer.flush(timeout: .seconds(10)))
        close(fds[1])
        reader.finished.wait()
        close(fds[0])
        #expect(reader.text == (0..<500).map { "line \($0)\n" }.joined())
        #expect(writer.droppedLines == 0)
    }

    @Test("lines that arrive while the writer lingers share one batch; a flush ends the linger at once")
    func lingeringBatches() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reader = PipeReader(fileDescriptor: fds[0])
        // A window far longer than the 20 lines take (1 ms apart): one wake-up, one batch, where
        // a writer woken per line would write about 20.
        let writer = BackgroundLineWriter(fileDescriptor: fds[1], lingerWindow: .seconds(5)) { "\($0) line(s) dropped\n" }
        for number in 0..<20 {
            writer.write("line \(number)\n")
            usleep(1000)
        }
        #expect(writer.batchCount == 0, "the writer is still lingering: \(writer.batchCount) batches")
        // The flush does not wait out the window.
        let started = ContinuousClock.now
        #expect(writer.flush(timeout: .seconds(10)))
        #expect(ContinuousClock.now - started < .seconds(4))
        // The next line after an idle writer wakes it again.
        writer.write("after\n")
        #expect(writer.flush(timeout: .seconds(10)))
        #expect(writer.batchCount == 2)
        close(fds[1])
        reader.finished.wait()
        close(fds[0])
        #expect(reader.text == (0..<20).map { "line \($0)\n" }.joined() + "after\n")
    }

    @Test("a reader that falls behind costs dropped lines, counted and reported, never a blocked caller")
    func dropsPastCapacityAndSaysSo() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        // Nobody reads yet: once the pipe's buffer is full the writer thread blocks, the 1 KB
        // queue fills, and `write` must drop instead of waiting.
        let writer = BackgroundLineWriter(fileDescriptor: fds[1], capacityBytes: 1024) { "\($0) line(s) dropped\n" }
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
        let reported = lines.filter { $0.hasSuffix(" line(s) dropped") }.compactMap { Int($0.split(separator: " ")[0]) }
        #expect(reported.reduce(0, +) == dropped, "every drop reported where the lines go: \(reported)")
        #expect(lines.last == "end")
    }

    @Test("reopen between batches (logrotate): every line lands once, before the rename in the old file, after it in the new")
    func reopenAfterRename() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("line-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.jsonl").path
        let writer = try BackgroundLineWriter(path: path) { "\($0) dropped\n" }
        // Lines keep coming from another thread while the file is renamed and reopened; the
        // second half waits for the reopen, so the new file surely gets some.
        let reopened = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread {
            for number in 0..<10_000 { writer.write("\(number)\n") }
            reopened.wait()
            for number in 10_000..<20_000 { writer.write("\(number)\n") }
            done.signal()
        }.start()
        while (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 == 0 { usleep(500) }
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        writer.reopen()
        reopened.signal()
        done.wait()
        #expect(writer.close(timeout: .seconds(10)))
        #expect(writer.droppedLines == 0)
        #expect(writer.write("late\n") == false, "a closed writer takes no lines")
        let old = try String(contentsOfFile: path + ".1", encoding: .utf8).split(separator: "\n")
        let new = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let numbers = (old + new).compactMap { Int($0) }
        #expect(numbers == Array(0..<20_000), "each line once, in order across the two files")
        #expect(!new.isEmpty, "lines after the reopen went to the new file")
    }

    @Test("a path that cannot be opened is an error naming it")
    func openError() {
        #expect(throws: BackgroundLineWriter.OpenError.self) {
            _ = try BackgroundLineWriter(path: "/nonexistent-dir/x.jsonl") { _ in "" }
        }
    }
}
