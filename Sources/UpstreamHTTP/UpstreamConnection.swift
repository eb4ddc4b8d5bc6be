import NIOCore
import NIOHTTP1
import Synchronization

/// One keep-alive connection to an origin. Whoever took it from the pool (or connected it)
/// owns it until its answer ends; the handler then gives it back, or drops it when it closes.
///
/// THREAD: `exchange` is called by one owner at a time; `idle`, `closed` and `close` from any
/// thread.
final class UpstreamConnection: Sendable {
    let channel: any Channel
    let origin: UpstreamEndpoint.Origin
    private let handler: UpstreamConnectionHandler
    private let pool: ConnectionPool
    private let exchanges = Atomic<UInt64>(0)

    init(channel: any Channel, handler: UpstreamConnectionHandler, origin: UpstreamEndpoint.Origin, pool: ConnectionPool) {
        self.channel = channel
        self.handler = handler
        self.origin = origin
        self.pool = pool
    }

    /// Sends one request and waits for its answer (or its head, when streaming). Cancelling
    /// the task ends the exchange and closes the connection.
    func exchange(head: HTTPRequestHead, body: ByteBuffer, mode: ExchangeState.Mode, deadline: NIODeadline) async throws
        -> UpstreamConnectionHandler.Answer
    {
        let generation = exchanges.wrappingAdd(1, ordering: .relaxed).newValue
        let handler = handler, loop = channel.eventLoop
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard !Task.isCancelled else { return continuation.resume(throwing: UpstreamError.cancelled) }
                if loop.inEventLoop {
                    handler.start(self, generation: generation, head: head, body: body, mode: mode,
                                  deadline: deadline, continuation: continuation)
                } else {
                    loop.execute {
                        handler.start(self, generation: generation, head: head, body: body, mode: mode,
                                      deadline: deadline, continuation: continuation)
                    }
                }
            }
        } onCancel: {
            loop.execute { handler.abandon(generation: generation) }
        }
    }

    /// The answer ended and the connection may carry another request.
    func idle() { pool.put(self) }

    /// The connection closed; it must not be handed out again.
    func closed() { pool.remove(self) }

    /// Closes the connection (an idle one the pool no longer keeps).
    func close() { channel.close(promise: nil) }
}

/// Idle keep-alive connections per origin, newest last. A connection idle longer than
/// `idleTimeout` is closed when the pool next looks at its origin; a server closing one first
/// removes it at once.
final class ConnectionPool: Sendable {
    private struct Idle {
        let connection: UpstreamConnection
        let since: NIODeadline
    }

    private let idle = Mutex<[UpstreamEndpoint.Origin: [Idle]]>([:])
    private let idleTimeout: TimeAmount
    private let maxIdlePerOrigin: Int

    init(idleTimeout: TimeAmount, maxIdlePerOrigin: Int) {
        self.idleTimeout = idleTimeout
        self.maxIdlePerOrigin = maxIdlePerOrigin
    }

    /// The newest idle connection to `origin`, preferring one on `loop` (the caller's own
    /// event loop: its answer is then handled without a thread hop).
    func take(_ origin: UpstreamEndpoint.Origin, preferring loop: (any EventLoop)?) -> UpstreamConnection? {
        let now = NIODeadline.now()
        var expired: [UpstreamConnection] = []
        let found = idle.withLock { idle -> UpstreamConnection? in
            // Taken out and put back, so that changing it does not copy it.
            guard var list = idle.removeValue(forKey: origin) else { return nil }
            defer { idle[origin] = list }
            let stale = list.prefix { $0.since + idleTimeout < now }.count
            if stale > 0 {
                expired = list.prefix(stale).map(\.connection)
                list.removeFirst(stale)
            }
            guard !list.isEmpty else { return nil }
            // Look at the newest few only: past them any connection will do.
            var index = list.count - 1
            if let loop {
                let lowest = max(0, list.count - 8)
                while index > lowest, list[index].connection.channel.eventLoop !== loop { index -= 1 }
                if list[index].connection.channel.eventLoop !== loop { index = list.count - 1 }
            }
            return list.remove(at: index).connection
        }
        for connection in expired { connection.close() }
        return found
    }

    /// Keeps an idle connection, or closes it when its origin already has enough.
    func put(_ connection: UpstreamConnection) {
        let kept = idle.withLock { idle -> Bool in
            guard idle[connection.origin, default: []].count < maxIdlePerOrigin else { return false }
            idle[connection.origin, default: []].append(Idle(connection: connection, since: .now()))
            return true
        }
        if !kept { connection.close() }
    }

    /// Forgets a connection that closed.
    func remove(_ connection: UpstreamConnection) {
        idle.withLock { idle in
            guard var list = idle.removeValue(forKey: connection.origin) else { return }
            list.removeAll { $0.connection === connection }
            idle[connection.origin] = list
        }
    }

    /// How many idle connections it holds for `origin`.
    func idleCount(_ origin: UpstreamEndpoint.Origin) -> Int {
        idle.withLock { $0[origin]?.count ?? 0 }
    }
}
