/// The lifecycle of one plugin instance as a pure state machine, time and I/O left to the
/// caller (`PluginInstance`), in the style of `FailoverState` and `CircuitBreaker`: each
/// mutating method takes an event and returns what the I/O layer must do next.
///
/// ```
/// created ──start──▶ starting ──ok──▶ running ──stop──▶ draining ──0 in flight / deadline──▶ stopping
///    │                  └──failed──▶ failed                                                      │
///    └──────stop──────────────────────────┴──────────────▶ destroyed ◀──destroy── stopped ◀──done─┘
///                                                                      leaked ◀──stop timed out──┘
/// ```
///
/// A call is admitted only while running, and counted until it finishes: a call after `stop`
/// is refused here, never made on a stopped or destroyed instance. Draining ends when the
/// last admitted call finishes (`finish()` says so) or at the drain deadline
/// (`drainDeadlinePassed()`), whichever comes first; then the plugin's `stop` is called. An
/// instance whose `stop` never completed is left alive (`leaked`), never destroyed under it.
public struct PluginLifecycle: Sendable, Equatable {
    /// Where the instance is.
    public enum State: Sendable, Equatable, CustomStringConvertible {
        case created, starting, running, draining, stopping, stopped, destroyed, leaked
        /// `start` failed; the instance is to be destroyed.
        case failed(String)

        public var description: String {
            switch self {
            case .created: "created"
            case .starting: "starting"
            case .running: "running"
            case .draining: "draining"
            case .stopping: "stopping"
            case .stopped: "stopped"
            case .destroyed: "destroyed"
            case .leaked: "leaked (its stop never completed)"
            case .failed(let reason): "failed: \(reason)"
            }
        }
    }

    /// What the I/O layer does next.
    public enum Action: Sendable, Equatable {
        /// Nothing.
        case none
        /// Call the plugin's `start`, then report with `started(error:)`.
        case callStart
        /// Wait until `finish()` answers `.drained` or the drain deadline passes.
        case waitForDrain
        /// Wake whoever waits for the drain (the last call finished).
        case drained
        /// Call the plugin's `stop`, then report with `stopCompleted(timedOut:)`.
        case callStop
        /// Call the plugin's `destroy` and release the host table, then report `destroyed()`.
        case destroy
    }

    /// The current state.
    public private(set) var state: State = .created
    /// Calls admitted and not yet finished.
    public private(set) var inFlight = 0
    /// `stop` was asked for while starting: it proceeds once `start` reports.
    private var stopRequested = false

    /// A fresh instance, just created.
    public init() {}

    /// The host is about to start the instance.
    public mutating func start() -> Action {
        guard state == .created else { return .none }
        state = .starting
        return .callStart
    }

    /// `start` finished: `error` is nil on success. A failed instance is to be destroyed; a
    /// stop asked for meanwhile proceeds now.
    public mutating func started(error: String?) -> Action {
        guard state == .starting else { return .none }
        if let error {
            state = .failed(error)
            return .destroy
        }
        state = .running
        return stopRequested ? stop() : .none
    }

    /// Admits a call (nil), which must be followed by `finish()`, or says why not.
    public mutating func admit() -> Refusal? {
        guard state == .running else { return Refusal(state: state) }
        inFlight += 1
        return nil
    }

    /// Admits a cancel hook call: while running, and while draining too (a cancel speeds the
    /// drain), never once `stop` was called. Counted like a call: `finish()` after it.
    public mutating func admitCancel() -> Bool {
        guard state == .running || state == .draining else { return false }
        inFlight += 1
        return true
    }

    /// Why a call was not admitted.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// The state that refused it.
        public var state: State
        /// A refusal by `state`.
        public init(state: State) { self.state = state }
        public var description: String { "the instance is \(state), not running" }
    }

    /// An admitted call finished (its completion arrived or the host stopped waiting).
    public mutating func finish() -> Action {
        guard inFlight > 0 else { return .none }
        inFlight -= 1
        guard state == .draining, inFlight == 0 else { return .none }
        state = .stopping
        return .drained
    }

    /// The host wants the instance gone: refuse new calls, drain, stop, destroy.
    public mutating func stop() -> Action {
        switch state {
        case .created, .failed:
            state = .stopped
            return .destroy
        case .starting:
            stopRequested = true
            return .none
        case .running where inFlight == 0:
            state = .stopping
            return .callStop
        case .running:
            state = .draining
            return .waitForDrain
        case .draining, .stopping, .stopped, .destroyed, .leaked:
            return .none
        }
    }

    /// The drain deadline passed with calls still in flight: stop anyway (the plugin fires
    /// their completions before its `stop` completes, or the host has stopped waiting).
    public mutating func drainDeadlinePassed() -> Action {
        guard state == .draining else { return .none }
        state = .stopping
        return .drained
    }

    /// After `.drained` (whoever woke the waiter): the next step is the plugin's `stop`.
    public func afterDrain() -> Action {
        state == .stopping ? .callStop : .none
    }

    /// The plugin's `stop` completed, or its deadline passed (`timedOut`): destroy, or leave
    /// the instance alive when its `stop` may still be running.
    public mutating func stopCompleted(timedOut: Bool) -> Action {
        guard state == .stopping else { return .none }
        if timedOut {
            state = .leaked
            return .none
        }
        state = .stopped
        return .destroy
    }

    /// `destroy` returned.
    public mutating func destroyed() {
        if state == .stopped || state.isFailed { state = .destroyed }
    }
}

extension PluginLifecycle.State {
    var isFailed: Bool { if case .failed = self { true } else { false } }
}
