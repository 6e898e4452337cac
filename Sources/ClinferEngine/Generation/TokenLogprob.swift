import Foundation

/// A token's log-probability under the model's raw next-token distribution (the log-softmax of
/// the logits, before penalties and temperature, as vLLM and llama-server report it), with the
/// most likely alternatives at its position: what evaluation harnesses score with and what the
/// server's `logprobs` fields carry.
public struct TokenLogprob: Sendable, Hashable {
    /// One candidate at the position.
    public struct Alternative: Sendable, Hashable {
        public var token: Int
        public var logprob: Float

        public init(token: Int, logprob: Float) {
            self.token = token
            self.logprob = logprob
        }
    }

    public var token: Int
    public var logprob: Float
    /// The `top` most likely tokens, most likely first (ties: lower id first).
    public var top: [Alternative]

    public init(token: Int, logprob: Float, top: [Alternative]) {
        self.token = token
        self.logprob = logprob
        self.top = top
    }

    /// The most alternatives a position reports (OpenAI's `top_logprobs` limit).
    public static let maxTop = 20

    /// `token`'s log-probability and the `top` most likely tokens from one position's `logits`.
    /// NaN logits count as −∞; the normaliser is summed in double precision.
    public init<Logits: RandomAccessCollection>(token: Int, logits: Logits, top count: Int)
    where Logits.Element == Float, Logits.Index == Int {
        let base = logits.startIndex
        var largest = -Float.infinity
        for value in logits where value > largest { largest = value }
        var sum = 0.0
        if largest.isFinite {
            for value in logits where value > -.infinity { sum += Foundation.exp(Double(value - largest)) }
        }
        let logNormaliser = largest.isFinite ? Double(largest) + Foundation.log(sum) : 0
        func logprob(_ value: Float) -> Float {
            value.isNaN || !largest.isFinite ? -.infinity : Float(Double(value) - logNormaliser)
        }
        // The `count` largest in one pass: a small sorted buffer (count ≤ 20).
        var best: [(index: Int, value: Float)] = []
        let wanted = max(0, min(count, logits.count))
        if wanted > 0 {
            best.reserveCapacity(wanted + 1)
            for (offset, value) in logits.enumerated() where !value.isNaN {
                if best.count == wanted, let last = best.last, value <= last.value { continue }
                let at = best.firstIndex { value > $0.value } ?? best.count
                best.insert((offset, value), at: at)
                if best.count > wanted { best.removeLast() }
            }
        }
        self.init(
            token: token, logprob: logits.indices.contains(base + token) ? logprob(logits[base + token]) : -.infinity,
            top: best.map { Alternative(token: $0.index, logprob: logprob($0.value)) })
    }
}
