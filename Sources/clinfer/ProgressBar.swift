import Foundation

/// A one-line progress bar on standard error (redrawn in place on a terminal, a line per 10 %
/// otherwise), for long work such as loading a model.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDecile = -1

    init(label: String) { self.label = label }

    func update(_ done: Int, _ total: Int) {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        if interactive {
            let filled = Int(fraction * 30)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(Int(fraction * 100))%".utf8))
        } else if Int(fraction * 10) > lastDecile {
            lastDecile = Int(fraction * 10)
            progress("\(label): \(lastDecile * 10)%")
        }
    }

    func finish(_ message: String) {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        progress(message)
    }
}
