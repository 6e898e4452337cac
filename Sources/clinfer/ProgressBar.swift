import Foundation
import Synchronization

/// A one-line progress bar on standard error (redrawn in place on a terminal, a line per 10 %
/// otherwise), for long work such as loading a model. Sendable: the decile reached sits behind a lock.
final class ProgressBar: Sendable {
    private let label: String
    private let interactive = isatty(STDERR_FILENO) != 0
    private let lastDecile = Mutex(-1)

    init(label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        if interactive {
            let filled = Int(fraction * 30)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(Int(fraction * 100))%".utf8))
        } else {
            let decile = Int(fraction * 10)
            let reached = lastDecile.withLock { last -> Bool in
                defer { last = max(last, decile) }
                return decile > last
            }
            if reached { progress("\(label): \(decile * 10)%") }
        }
    }

    func finish(_ message: String) {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        progress(message)
    }
}
