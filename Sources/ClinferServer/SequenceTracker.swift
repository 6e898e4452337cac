import Synchronization

/// The generations in flight and the positions each holds in the KV cache, for the `running`,
/// KV-cache gauges, and the `running` and `waiting` ones until the model is loaded (then the
/// engine's own counts, ``ServerState/sequenceCounts``).
final class SequenceTracker: Sendable {
    private struct State {
        var nextID = 0
        /// Positions held per sequence; 0 while it waits for a slot.
        var positions: [Int: Int] = [:]
    }

    private let state = Mutex(State())

    /// Registers a new sequence (waiting until it is first ``update(_:positions:)``d).
    func begin() -> Int {
        state.withLock { state in
            state.nextID += 1
            state.positions[state.nextID] = 0
            return state.nextID
        }
    }

    func update(_ id: Int, positions: Int) {
        state.withLock { $0.positions[id] = positions }
    }

    func end(_ id: Int) {
        _ = state.withLock { $0.positions.removeValue(forKey: id) }
    }

    /// Sequences registered, and the KV positions they hold together.
    var snapshot: (sequences: Int, started: Int, positions: Int) {
        state.withLock { state in
            (state.positions.count, state.positions.values.filter { $0 > 0 }.count, state.positions.values.reduce(0, +))
        }
    }
}
