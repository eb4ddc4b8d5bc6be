import Synchronization
import StoreKit
import TokenHubCore

/// Groups log appends (request logs with their rewards and points, rewards, points) into one
/// transaction: the first append opens a batch, appends arriving within `window` join it, and
/// one task writes it with a few multi-row statements. Every append's completion fires after
/// COMMIT with its own answer; when the transaction fails, every append in it fails, and the
/// caller (the host's result recorder) keeps the rows to try again.
final class LogWriter: Sendable {
    /// One append and where its answer goes.
    enum Append: Sendable {
        case results([StoreOperation.LoggedResult])
        case rewards([RewardRow])
        case points([TimeSeriesPoint])
    }

    private struct Pending {
        var appends: [(Append, CheckedContinuation<Result<JSONValue, StoreFailure>, Never>)] = []
        var writing = false
    }

    private let pending = Mutex(Pending())
    private let window: Duration
    private let write: @Sendable ([Append]) async -> Result<[JSONValue], StoreFailure>

    /// Rows that make a batch worth writing without waiting out the window.
    static let fillRows = 256

    /// `write` runs one batch in one transaction and answers each append in order.
    init(window: Duration, write: @escaping @Sendable ([Append]) async -> Result<[JSONValue], StoreFailure>) {
        self.window = window
        self.write = write
    }

    /// Queues `append` and returns its answer once its batch committed.
    func append(_ append: Append) async -> Result<JSONValue, StoreFailure> {
        await withCheckedContinuation { continuation in
            let start = pending.withLock { state in
                state.appends.append((append, continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            if window > .zero, pending.withLock({ $0.appends.count }) < Self.fillRows { try? await Task.sleep(for: window) }
            let batch = pending.withLock { state in
                let batch = state.appends
                state.appends.removeAll()
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            switch await write(batch.map(\.0)) {
            case .success(let answers):
                for (index, (_, continuation)) in batch.enumerated() { continuation.resume(returning: .success(answers[index])) }
            case .failure(let failure):
                for (_, continuation) in batch { continuation.resume(returning: .failure(failure)) }
            }
        }
    }

    /// Writes one batch: every request log row first (so a reward or point of a row already
    /// stored is skipped), then standalone rewards and points.
    static func writeBatch(_ appends: [Append], _ sql: SQL) async throws -> [JSONValue] {
        var results: [StoreOperation.LoggedResult] = []
        var rewards: [RewardRow] = []
        var points: [TimeSeriesPoint] = []
        for append in appends {
            switch append {
            case .results(let items): results += items
            case .rewards(let rows): rewards += rows
            case .points(let rows): points += rows
            }
        }
        // A request id twice in one batch (a retry racing its original) is written once.
        var seen = Set<String>()
        let unique = results.filter { seen.insert($0.row.requestID).inserted }
        let storedLogs = try await Operations.append(unique, sql)
        let storedRewards = try await Operations.appendRewards(rewards, sql)
        try await Operations.appendPoints(points, sql)
        // Each id counts as stored for the first append that carried it.
        var claimedLogs = Set<String>(), claimedRewards = Set<String>()
        return appends.map { append in
            switch append {
            case .results(let items):
                let stored = items.filter { storedLogs.contains($0.row.requestID) && claimedLogs.insert($0.row.requestID).inserted }.count
                return .object(["stored": .number(Double(stored))])
            case .rewards(let rows):
                return .object(["stored": .bool(rows.contains { storedRewards.contains($0.requestID) && claimedRewards.insert($0.requestID).inserted })])
            case .points(let rows):
                return .object(["stored": .number(Double(rows.count))])
            }
        }
    }
}
