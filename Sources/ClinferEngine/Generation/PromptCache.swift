/// What the KV cache of each idle slot still holds, so that a new sequence whose prompt starts
/// like an earlier one (the next turn of a chat resends the whole conversation) reuses those
/// positions and prefills only the rest. Idle slots are chosen by longest shared prefix, else
/// least recently used, which is the eviction order: the pool's idle slots (beyond the running
/// ones, `LoadOptions.promptCacheBytes`) are the cache's memory.
///
/// Not Sendable: the scheduler keeps it under its lock.
struct PromptCache {
    /// The tokens whose keys and values each slot holds (empty: nothing reusable).
    private var held: [[Int]]
    private var lastUse: [UInt64]
    private var clock: UInt64 = 0
    /// Off: every sequence prefills its whole prompt.
    let enabled: Bool

    init(slots: Int, enabled: Bool) {
        held = Array(repeating: [], count: slots)
        lastUse = Array(repeating: 0, count: slots)
        self.enabled = enabled
    }

    /// Takes the idle slot of `free` that serves `prompt` best: the one holding the longest
    /// prefix of it, else the least recently used. Returns the slot and how many of the prompt's
    /// positions it already holds (at most `prompt.count - 1`: the last token always runs, for
    /// its logits).
    mutating func take(from free: inout [Int], for prompt: [Int]) -> (slot: Int, reused: Int) {
        precondition(!free.isEmpty, "no idle slot")
        var best = (index: 0, shared: 0)
        if enabled {
            for (index, slot) in free.enumerated() {
                let shared = Self.sharedPrefix(held[slot], prompt)
                if shared > best.shared { best = (index, shared) }
            }
        }
        if best.shared == 0, let oldest = free.indices.min(by: { lastUse[free[$0]] < lastUse[free[$1]] }) {
            best.index = oldest
        }
        let slot = free.remove(at: best.index)
        held[slot] = []
        clock += 1
        lastUse[slot] = clock
        return (slot, min(best.shared, max(0, prompt.count - 1)))
    }

    /// Records what `slot` holds now that its sequence is done (nil: nothing reusable).
    mutating func release(_ slot: Int, holding tokens: [Int]?) {
        held[slot] = enabled ? tokens ?? [] : []
        clock += 1
        lastUse[slot] = clock
    }

    private static func sharedPrefix(_ a: [Int], _ b: [Int]) -> Int {
        var count = 0
        while count < a.count, count < b.count, a[count] == b[count] { count += 1 }
        return count
    }
}
