/// Runs byte-level BPE on one pre-tokenized piece: start from one symbol per byte, repeatedly
/// merge the adjacent pair with the lowest rank (leftmost on ties), stop when no pair has a
/// rule. A binary heap of candidate pairs with lazy invalidation makes a piece of n bytes cost
/// O(n log n), so long runs (whitespace, base64, minified code) stay fast.
///
/// Holds its buffers between pieces; one per `encode` call, never shared.
struct BPEMerger {
    private var symbols: [Int32] = []  // -1 once merged into its left neighbour
    private var previous: [Int32] = []
    private var next: [Int32] = []
    private var heap: [Candidate] = []

    /// A pair that may merge; stale once either side changed.
    private struct Candidate {
        var key: UInt64  // rank << 32 | left position: the heap order
        var leftSymbol: Int32
        var rightSymbol: Int32
        var right: Int32
        var merged: Int32
    }

    /// Appends the tokens of `bytes` to `output`.
    mutating func encode(_ bytes: ArraySlice<UInt8>, table: BPEMergeTable, into output: inout [Int32]) {
        let count = bytes.count
        if count == 1 {
            let token = table.byteTokens[Int(bytes[bytes.startIndex])]
            if token >= 0 { output.append(token) }
            return
        }
        symbols.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        for (position, byte) in bytes.enumerated() {
            symbols.append(table.byteSymbols[Int(byte)])
            previous.append(Int32(position - 1))
            next.append(position + 1 < count ? Int32(position + 1) : -1)
        }
        for left in 0..<(count - 1) { consider(Int32(left), Int32(left + 1), table) }

        while let candidate = popMin() {
            let left = Int(truncatingIfNeeded: candidate.key & 0xFFFF_FFFF), right = Int(candidate.right)
            guard symbols[left] == candidate.leftSymbol, next[left] == candidate.right,
                symbols[right] == candidate.rightSymbol
            else { continue }
            symbols[left] = candidate.merged
            symbols[right] = -1
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            if previous[left] >= 0 { consider(previous[left], Int32(left), table) }
            if next[left] >= 0 { consider(Int32(left), next[left], table) }
        }

        var position: Int32 = 0
        while position >= 0 {
            let symbol = symbols[Int(position)]
            if symbol < table.vocabularySize {
                output.append(symbol)
            } else {
                // Text the vocabulary lacks (a merge result, or a byte without a token): spell it
                // with byte tokens, dropping bytes that have none.
                for byte in table.extraSymbolBytes[Int(symbol - table.vocabularySize)]
                where table.byteTokens[Int(byte)] >= 0 {
                    output.append(table.byteTokens[Int(byte)])
                }
            }
            position = next[Int(position)]
        }
    }

    private mutating func consider(_ left: Int32, _ right: Int32, _ table: BPEMergeTable) {
        let leftSymbol = symbols[Int(left)], rightSymbol = symbols[Int(right)]
        guard let rule = table.merge(leftSymbol, rightSymbol) else { return }
        push(
            Candidate(
                key: UInt64(UInt32(rule.rank)) << 32 | UInt64(UInt32(left)),
                leftSymbol: leftSymbol, rightSymbol: rightSymbol, right: right, merged: rule.merged))
    }

    private mutating func push(_ candidate: Candidate) {
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].key < heap[parent].key else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popMin() -> Candidate? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].key < heap[smallest].key { smallest = left }
            if right < heap.count && heap[right].key < heap[smallest].key { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
