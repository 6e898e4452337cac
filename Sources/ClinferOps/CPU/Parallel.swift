import Dispatch
import Foundation

/// Runs `body` for every index in `0..<count`, spread over the machine's cores; the CPU
/// backend's only threading primitive.
///
/// Callers guarantee that different iterations write disjoint memory. That contract, not the
/// type system, is what makes sharing `body` across threads safe, so the closure is handed to
/// Dispatch as `@Sendable` here, in this one place.
func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    guard count > 1 else {
        if count == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = unsafeBitCast(body, to: (@Sendable (Int) -> Void).self)
        DispatchQueue.concurrentPerform(iterations: count, execute: shared)
    }
}

/// The number of worker threads the CPU backend aims to keep busy.
let cpuThreadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
