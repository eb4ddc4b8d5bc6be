import Synchronization

/// Concurrent clients posting `/v1/chat` until stopped, tallying which dispatcher served each
/// answer and what failed: the load the reload tests run under.
final class ChatLoad: Sendable {
    private let failureList = Mutex<[String]>([])
    private let servedBy = Mutex<[String: Int]>([:])
    private let running = Mutex(true)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    /// Starts `clients` clients, each sending one request after another.
    init(_ client: HTTPTestClient, clients: Int) {
        let started = (0..<clients).map { _ in
            Task {
                while self.running.withLock({ $0 }) {
                    do {
                        let answer = try await client.post("/v1/chat", body: #"{"request":{"messages":[{"role":"user","content":"x"}]}}"#)
                        if answer.status == 200, let dispatcher = answer.json?["dispatcher"]?.stringValue {
                            self.servedBy.withLock { $0[dispatcher, default: 0] += 1 }
                        } else {
                            self.failureList.withLock { $0.append("\(answer.status) \(String(decoding: answer.body, as: UTF8.self))") }
                        }
                    } catch {
                        self.failureList.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        tasks.withLock { $0 = started }
    }

    /// Lets each client finish its request in flight, then returns.
    func stop() async {
        running.withLock { $0 = false }
        for task in tasks.withLock({ $0 }) { await task.value }
    }

    /// Answers so far, by serving dispatcher.
    var served: [String: Int] { servedBy.withLock { $0 } }
    /// Answers so far, in all.
    var answered: Int { served.values.reduce(0, +) }
    /// Every request that did not get a 200 from a dispatcher.
    var failures: [String] { failureList.withLock { $0 } }
}
