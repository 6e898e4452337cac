import ClinferOps
import Foundation

/// Picks the next token from logits: penalties, then greedy or temperature sampling restricted by
/// top-k, top-p and min-p, from a seeded random stream so a seed reproduces a generation.
public struct Sampler: Sendable {
    public let parameters: GenerationParameters
    private var random: SplitMix64

    public init(parameters: GenerationParameters) {
        self.parameters = parameters
        random = SplitMix64(seed: parameters.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// The next token given the vocabulary's `logits` and the tokens so far (`history`, used by
    /// the penalties). With `allowed`, only tokens it accepts are chosen (constrained output):
    /// candidates are checked most likely first, so a grammar is asked about a handful of tokens
    /// per step, not the whole vocabulary.
    public mutating func sample(_ logits: [Float], history: [Int], allowed: ((Int) -> Bool)? = nil) -> Int {
        // A NaN logit (a broken model or device) is never chosen and never poisons the others.
        var logits = logits.map { $0.isNaN ? -Float.infinity : $0 }
        applyPenalties(&logits, history: history)
        guard parameters.temperature > 0, let top = logits.max(), top.isFinite else {
            guard let allowed else { return Self.argmax(logits) }
            return Self.mostLikely(logits, where: allowed) ?? Self.argmax(logits)
        }
        var candidates = Array(logits.indices)
        if parameters.topK > 0 && parameters.topK < candidates.count {
            candidates = Array(candidates.sorted { logits[$0] > logits[$1] }.prefix(parameters.topK))
        } else {
            // A token 24·T below the top has probability e^-24 ≈ 4e-11 of the top's: the whole
            // vocabulary down there holds < 2e-6 of the mass, so only the tokens above are sorted.
            let floor = top - 24 * parameters.temperature
            candidates = candidates.filter { logits[$0] >= floor }.sorted { logits[$0] > logits[$1] }
        }
        if let allowed {
            candidates = candidates.filter(allowed)
            // Nothing likely is allowed: the most likely allowed token.
            if candidates.isEmpty { return Self.mostLikely(logits, where: allowed) ?? Self.argmax(logits) }
        }
        let best = logits[candidates[0]]
        var probabilities = candidates.map { Foundation.exp(Double((logits[$0] - best) / parameters.temperature)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        var keep = probabilities.count
        if parameters.minP > 0 {
            let threshold = Double(parameters.minP) * probabilities[0]
            keep = max(1, probabilities.prefix { $0 >= threshold }.count)
        }
        if parameters.topP < 1 {
            var mass = 0.0
            for (index, p) in probabilities.prefix(keep).enumerated() {
                mass += p
                if mass >= Double(parameters.topP) { keep = index + 1; break }
            }
        }
        let kept = probabilities.prefix(keep)
        var target = Double(random.next() >> 11) / Double(1 << 53) * kept.reduce(0, +)
        for (index, p) in kept.enumerated() {
            target -= p
            if target <= 0 { return candidates[index] }
        }
        return candidates[keep - 1]
    }

    /// The most likely token `allowed` accepts: the argmax first (usually allowed), then the
    /// next 15 by repeated argmax, then the rest in sorted order.
    private static func mostLikely(_ logits: [Float], where allowed: (Int) -> Bool) -> Int? {
        var remaining = logits
        for _ in 0..<16 {
            let index = argmax(remaining)
            guard remaining[index] > -.infinity else { return nil }
            if allowed(index) { return index }
            remaining[index] = -.infinity
        }
        let order = remaining.indices.filter { remaining[$0] > -.infinity }.sorted {
            remaining[$0] > remaining[$1] || (remaining[$0] == remaining[$1] && $0 < $1)
        }
        return order.first(where: allowed)
    }

    private func applyPenalties(_ logits: inout [Float], history: [Int]) {
        let p = parameters
        guard p.penaltyWindow > 0, p.repetitionPenalty != 1 || p.presencePenalty != 0 || p.frequencyPenalty != 0 else {
            return
        }
        var counts: [Int: Int] = [:]
        for token in history.suffix(p.penaltyWindow) where logits.indices.contains(token) {
            counts[token, default: 0] += 1
        }
        for (token, count) in counts {
            var value = logits[token]
            if p.repetitionPenalty != 1 {
                value = value > 0 ? value / p.repetitionPenalty : value * p.repetitionPenalty
            }
            value -= p.presencePenalty + p.frequencyPenalty * Float(count)
            logits[token] = value
        }
    }

    /// The index of the largest logit (the first on ties; NaN never wins).
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        for index in logits.indices where logits[index] > logits[best] || logits[best].isNaN { best = index }
        return best
    }
}
