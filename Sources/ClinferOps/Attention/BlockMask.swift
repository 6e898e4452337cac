/// Which key blocks each query block visits in block-sparse attention: queries and keys are cut
/// into blocks of `blockSize`, and each (head, query block) has a sorted list of key blocks;
/// blocks not listed cost nothing. One mask can serve every head (`heads` 1) or each head have
/// its own (what ``BlockSelection`` produces). Stored as compressed lists (offsets + indices), the
/// form the kernel reads.
public struct BlockMask: Sendable, Hashable {
    public let blockSize: Int
    public let queryBlocks: Int
    public let keyBlocks: Int
    /// Masks held: 1 (shared by every head) or one per head.
    public let heads: Int
    /// The key blocks of list l = head · queryBlocks + queryBlock are indices[offsets[l]..<offsets[l + 1]].
    public let offsets: [Int]
    public let indices: [Int]

    /// A mask from explicit lists, `lists[head · queryBlocks + queryBlock]` (any order; duplicates
    /// are merged).
    public init(blockSize: Int, queryBlocks: Int, keyBlocks: Int, lists: [[Int]]) throws(OpError) {
        func fail(_ detail: String) -> OpError { .invalidArgument(op: "block mask", detail: detail) }
        guard blockSize >= 1, queryBlocks >= 1, keyBlocks >= 1 else {
            throw fail("block size and block counts must be ≥ 1")
        }
        guard !lists.isEmpty, lists.count % queryBlocks == 0 else {
            throw fail("\(lists.count) lists is not a whole number of heads × \(queryBlocks) query blocks")
        }
        var offsets = [0], indices: [Int] = []
        for list in lists {
            let sorted = Set(list).sorted()
            guard sorted.allSatisfy({ (0..<keyBlocks).contains($0) }) else {
                throw fail("key blocks must lie in 0..<\(keyBlocks), got \(list)")
            }
            indices += sorted
            offsets.append(indices.count)
        }
        self.blockSize = blockSize
        self.queryBlocks = queryBlocks
        self.keyBlocks = keyBlocks
        heads = lists.count / queryBlocks
        self.offsets = offsets
        self.indices = indices
    }

    /// The key blocks query block `queryBlock` of `head` visits.
    public func blocks(head: Int, queryBlock: Int) -> ArraySlice<Int> {
        let list = (heads == 1 ? 0 : head) * queryBlocks + queryBlock
        return indices[offsets[list]..<offsets[list + 1]]
    }

    /// Blocks visited over all lists.
    public var visitedBlocks: Int { indices.count }

    /// The key blocks a query block can see at all: every block, or with `causal` those holding a
    /// key at or before its last query's position (`offset` + query index).
    public static func visible(
        queryBlock: Int, blockSize: Int, seqQ: Int, seqK: Int, causal: Bool, offset: Int
    ) -> Range<Int> {
        let keyBlocks = (seqK + blockSize - 1) / blockSize
        guard causal else { return 0..<keyBlocks }
        let lastPosition = offset + min((queryBlock + 1) * blockSize, seqQ) - 1
        return 0..<min(keyBlocks, lastPosition / blockSize + 1)
    }

    /// Every visible block: block-sparse attention with this mask is dense attention.
    public static func dense(
        blockSize: Int, seqQ: Int, seqK: Int, causal: Bool, offset: Int = 0
    ) throws(OpError) -> BlockMask {
        let queryBlocks = (seqQ + blockSize - 1) / blockSize
        return try BlockMask(
            blockSize: blockSize, queryBlocks: queryBlocks, keyBlocks: (seqK + blockSize - 1) / blockSize,
            lists: (0..<queryBlocks).map {
                Array(
                    visible(
                        queryBlock: $0, blockSize: blockSize, seqQ: seqQ, seqK: seqK, causal: causal, offset: offset))
            })
    }

    /// A fixed causal pattern: the first `sinks` key blocks (attention sinks) and the `window`
    /// visible blocks ending at each query block's diagonal (sliding-window attention).
    public static func slidingWindow(
        blockSize: Int, seqQ: Int, seqK: Int, window: Int, sinks: Int = 1, offset: Int = 0
    ) throws(OpError) -> BlockMask {
        guard window >= 1, sinks >= 0 else {
            throw .invalidArgument(op: "block mask", detail: "window must be ≥ 1 block and sinks ≥ 0")
        }
        let queryBlocks = (seqQ + blockSize - 1) / blockSize
        return try BlockMask(
            blockSize: blockSize, queryBlocks: queryBlocks, keyBlocks: (seqK + blockSize - 1) / blockSize,
            lists: (0..<queryBlocks).map {
                let visible = visible(
                    queryBlock: $0, blockSize: blockSize, seqQ: seqQ, seqK: seqK, causal: true, offset: offset)
                return Array(visible.prefix(sinks)) + Array(visible.suffix(window))
            })
    }
}
