import PluginAPI
import Synchronization

/// The calling side of every asynchronous C call, in both directions (the host calling a
/// plugin's hooks, a Swift plugin calling the host table): a table of waiting tasks keyed by a
/// token that travels as the call's `user_data`. Its serving counterpart is `RunningCalls`.
///
/// A token, not a pointer, so that a buggy plugin cannot crash the host: a second or late
/// `done` finds no entry and is counted and ignored; a `done` that never comes is answered
/// with `TOKENHUB_ERR_TIMEOUT` once its deadline passes (see `expire(now:)`), by a sweeper
/// that runs for the life of the process: it outlives the HTTP server, so a plugin that never
/// completes its `stop` cannot hang a graceful shutdown either.
///
/// THREAD: all methods are safe from any thread.
public final class PendingReplies: Sendable {
    /// The registry the C completion thunk reports to (one per image: the host's, and each
    /// Swift plugin's own copy).
    public static let shared = PendingReplies()

    private struct Waiter {
        var continuation: CheckedContinuation<PluginReply, Never>
        var deadline: ContinuousClock.Instant?
        var label: CallLabel
        /// Tells the plugin to stop the call (its `on_cancel`), when it has one.
        var cancel: CancelHook?
        /// Whether `start` has returned, so that the callee knows the call's user data.
        var started = false
    }

    private struct State {
        var waiting: [UInt: Waiter] = [:]
        /// Calls abandoned while their `start` was still running: the callee does not know
        /// their user data yet, so the cancel is told once `start` returns.
        var cancelBeforeStarted: [UInt: CancelHook] = [:]
        var strayCompletions = 0
    }

    private let state = Mutex(State())
    private let nextToken = Atomic<UInt>(0)

    private init() {}

    /// Checks deadlines every 100 ms, from the first call that has one until the process ends.
    private static let sweeper: Task<Void, Never> = Task.detached {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            PendingReplies.shared.expire()
        }
    }

    /// Starts a call and waits for its completion, the deadline, or the task's cancellation.
    /// At the deadline the call is answered `TOKENHUB_ERR_TIMEOUT`, on cancellation
    /// `TOKENHUB_ERR_CANCELLED`; either way `cancel` (the plugin's `on_cancel`) is told.
    /// - Parameters:
    ///   - cancel: asks the plugin to stop the call with this user data; nil if it cannot.
    ///   - start: issues the C call, passing the given completion and user data.
    public func call(
        label: CallLabel, deadline: ContinuousClock.Instant?,
        cancel: CancelHook? = nil,
        _ start: (tokenhub_completion_fn, UnsafeMutableRawPointer) -> Void
    ) async -> PluginReply {
        if deadline != nil { _ = Self.sweeper }
        // Tokens come from an atomic counter: no lock for them on every call.
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                state.withLock { $0.waiting[token] = Waiter(continuation: continuation, deadline: deadline, label: label, cancel: cancel) }
                guard !Task.isCancelled else {
                    self.abandon(token, .failure(.cancelled, "\(label): cancelled before it started"), tellPlugin: false)
                    return
                }
                start(completePendingReply, UnsafeMutableRawPointer(bitPattern: token)!)
                self.markStarted(token)
            }
        } onCancel: {
            self.abandon(token, .failure(.cancelled, "\(label): cancelled"), tellPlugin: true)
        }
    }

    /// Stops waiting for `token`: answers its waiter with `reply` and, if asked, tells the plugin
    /// (at once if the call has started, else when its `start` returns: see `markStarted`).
    private func abandon(_ token: UInt, _ reply: PluginReply, tellPlugin: Bool) {
        let (waiter, tellNow) = state.withLock { state -> (Waiter?, Bool) in
            guard let waiter = state.waiting.removeValue(forKey: token) else { return (nil, false) }
            if tellPlugin, !waiter.started, let cancel = waiter.cancel {
                state.cancelBeforeStarted[token] = cancel
                return (waiter, false)
            }
            return (waiter, tellPlugin)
        }
        guard let waiter else { return }
        waiter.continuation.resume(returning: reply)
        if tellNow { waiter.cancel?.call(UnsafeMutableRawPointer(bitPattern: token)!) }
    }

    /// Records that `token`'s C call has been issued; a cancel that came while it was being
    /// issued (which the callee could not have matched to a call yet) is told now.
    private func markStarted(_ token: UInt) {
        let deferred = state.withLock { state -> CancelHook? in
            if state.waiting[token] != nil {
                state.waiting[token]!.started = true
                return nil
            }
            return state.cancelBeforeStarted.removeValue(forKey: token)
        }
        deferred?.call(UnsafeMutableRawPointer(bitPattern: token)!)
    }

    /// Resumes the waiter of `token`; returns false (and counts it) for an unknown token.
    @discardableResult
    public func complete(token: UInt, with reply: PluginReply) -> Bool {
        guard let waiter = state.withLock({ $0.waiting.removeValue(forKey: token) }) else {
            state.withLock { $0.strayCompletions += 1 }
            return false
        }
        waiter.continuation.resume(returning: reply)
        return true
    }

    /// Answers every waiter whose deadline is before `now` with a timeout; returns their labels
    /// (`name.operation`).
    @discardableResult
    public func expire(now: ContinuousClock.Instant = .now) -> [String] {
        let expired = state.withLock { state in
            let tokens = state.waiting.filter { $0.value.deadline.map { $0 <= now } ?? false }.map(\.key)
            return tokens.compactMap { token -> (UInt, Waiter)? in
                guard let waiter = state.waiting.removeValue(forKey: token) else { return nil }
                if !waiter.started, let cancel = waiter.cancel { state.cancelBeforeStarted[token] = cancel }
                return (token, waiter)
            }
        }
        for (token, waiter) in expired {
            waiter.continuation.resume(returning: .failure(.timeout, "\(waiter.label): no completion before the deadline"))
            if waiter.started { waiter.cancel?.call(UnsafeMutableRawPointer(bitPattern: token)!) }
        }
        return expired.map(\.1.label.description)
    }

    /// How many calls are waiting.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// How many completions arrived for unknown (finished, expired or forged) tokens.
    public var strayCompletions: Int { state.withLock { $0.strayCompletions } }
}

/// Names a call in timeout and cancel messages (`direct.on_chat`): two strings the caller
/// already has, joined only when a message needs them, not on every call.
public struct CallLabel: Sendable, CustomStringConvertible {
    let name: String
    let operation: String

    /// `name.operation`.
    public init(_ name: String, _ operation: String) {
        self.name = name
        self.operation = operation
    }

    public var description: String { "\(name).\(operation)" }
}

/// An instance whose calls can be cancelled by the user data they were started with.
public protocol CancellableCalls: AnyObject, Sendable {
    /// Asks the plugin to stop the call started with `userData` (when its lifecycle allows).
    func cancelCall(_ userData: UnsafeMutableRawPointer)
}

/// Who to tell when a call is abandoned: the instance (a reference: nothing allocated per
/// call), whose lifecycle decides whether the plugin's hook may still run.
public struct CancelHook: Sendable {
    let target: any CancellableCalls

    /// A hook that cancels through `target`.
    public init(target: any CancellableCalls) { self.target = target }

    func call(_ userData: UnsafeMutableRawPointer) { target.cancelCall(userData) }
}

/// The completion the host passes to every plugin call; `user_data` is a token of `shared`.
private let completePendingReply: tokenhub_completion_fn = { userData, status, result, message in
    let token = UInt(bitPattern: userData)
    PendingReplies.shared.complete(
        token: token,
        with: PluginReply(status: PluginStatus(code: status), result: result.bytes, message: message.string))
}
