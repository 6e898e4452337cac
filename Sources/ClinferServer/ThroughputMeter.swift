import Synchronization

/// Tokens per second over a sliding window (default 10 s), for the `tok/s` gauge: counts are kept
/// per whole second, so recording is one lock and an addition.
final class ThroughputMeter: Sendable {
    private let window: Int
    private let buckets: Mutex<[Int: Int]>
    private let origin = ContinuousClock.now

    init(windowSeconds: Int = 10) {
        window = max(1, windowSeconds)
        buckets = Mutex([:])
    }

    private var second: Int { Int((ContinuousClock.now - origin).components.seconds) }

    func record(_ count: Int = 1) {
        let now = second
        buckets.withLock { buckets in
            buckets[now, default: 0] += count
            if buckets.count > window + 2 { buckets = buckets.filter { $0.key > now - window - 1 } }
        }
    }

    /// Tokens per second over the last full `window` seconds.
    var rate: Double {
        let now = second
        let total = buckets.withLock { buckets in
            buckets.filter { $0.key >= now - window && $0.key < now }.values.reduce(0, +)
        }
        return Double(total) / Double(window)
    }
}
