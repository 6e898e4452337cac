import Synchronization

/// Bounds the requests the server holds: the generation slots plus the wait queue. A request
/// that finds it full is answered 429 at once instead of queueing without bound.
///
/// Admission hands out a ``AdmissionTicket``; releasing it (explicitly, or when the last reference
/// goes away, whatever path the request took) frees the place, so no request can leak one.
public final class AdmissionGate: Sendable {
    /// Requests held at most (running and waiting).
    public let capacity: Int
    private let held = Atomic<Int>(0)

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Requests admitted and not yet released.
    public var count: Int { held.load(ordering: .acquiring) }

    /// A ticket, or nil when the gate is full.
    func admit() -> AdmissionTicket? {
        var current = held.load(ordering: .relaxed)
        while current < capacity {
            let (exchanged, original) = held.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return AdmissionTicket(gate: self) }
            current = original
        }
        return nil
    }

    fileprivate func leave() {
        held.subtract(1, ordering: .acquiringAndReleasing)
    }
}

/// One admitted request's place; released once, at the latest when it is deallocated.
final class AdmissionTicket: Sendable {
    private let gate: AdmissionGate
    private let released = Atomic<Bool>(false)

    fileprivate init(gate: AdmissionGate) {
        self.gate = gate
    }

    func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { gate.leave() }
    }

    deinit { release() }
}
