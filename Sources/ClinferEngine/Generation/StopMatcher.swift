/// Finds stop strings in streamed text. Text that could still become a stop string is held back
/// until it cannot, so a stop string never reaches the caller, even when it spans tokens.
struct StopMatcher: Sendable {
    let stops: [String]
    private var pending = ""

    init(stops: [String]) { self.stops = stops }

    /// Adds `text`; returns what can be released, and whether a stop string was reached (the
    /// released text then ends just before it).
    mutating func feed(_ text: String) -> (release: String, stopped: Bool) {
        pending += text
        guard !stops.isEmpty else {
            defer { pending = "" }
            return (pending, false)
        }
        if let range = stops.compactMap({ pending.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            let release = String(pending[..<range.lowerBound])
            pending = ""
            return (release, true)
        }
        // Hold back the longest tail that is a prefix of some stop string.
        var held = 0
        for stop in stops {
            for length in stride(from: min(stop.count, pending.count), to: 0, by: -1) where length > held {
                if pending.hasSuffix(stop.prefix(length)) { held = length; break }
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -held)
        defer { pending = String(pending[cut...]) }
        return (String(pending[..<cut]), false)
    }

    /// What is still held back (released when generation ends for another reason).
    mutating func flush() -> String {
        defer { pending = "" }
        return pending
    }
}
