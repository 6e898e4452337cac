import Synchronization

/// Collects the kernel launches of a command queue while recording, so a profiler can attribute
/// device time to kernels (`clinfer bench generate --profile`). Off by default; when off, a
/// launch costs one atomic load.
public final class LaunchRecorder: Sendable {
    /// One recorded launch: the kernel's name and its event (profiling timestamps).
    public struct Launch: Sendable {
        public let kernel: String
        public let event: Event
    }

    private let recording = Atomic<Bool>(false)
    private let launches = Mutex<[Launch]>([])

    public init() {}

    /// Starts recording (dropping anything recorded before).
    public func start() {
        launches.withLock { $0.removeAll() }
        recording.store(true, ordering: .releasing)
    }

    /// Stops recording and returns the launches, in submission order.
    public func stop() -> [Launch] {
        recording.store(false, ordering: .releasing)
        return launches.withLock { recorded in
            defer { recorded.removeAll() }
            return recorded
        }
    }

    func record(_ kernel: String, _ event: Event) {
        guard recording.load(ordering: .acquiring) else { return }
        launches.withLock { $0.append(Launch(kernel: kernel, event: event)) }
    }
}

/// The names of the kernels launched by one piece of work, whatever else runs on the same queue
/// meanwhile: ``collect(_:)`` binds a collection to the current task, and every launch that task
/// (or a child task) enqueues is added to it. For tests that assert what actually ran.
public final class LaunchCollection: Sendable {
    @TaskLocal static var current: LaunchCollection?
    private let names = Mutex<[String]>([])

    /// Runs `body`, returning its result and the kernels it launched, in order.
    public static func collect<R>(_ body: () throws -> R) rethrows -> (result: R, kernels: [String]) {
        let collection = LaunchCollection()
        let result = try $current.withValue(collection) { try body() }
        return (result, collection.names.withLock { $0 })
    }

    func append(_ kernel: String) { names.withLock { $0.append(kernel) } }
}
