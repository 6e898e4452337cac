import Foundation

/// Chooses the key blocks of block-sparse attention from the inputs themselves, as PBS-Attn
/// (permuted block-sparse attention) does: queries and keys are mean-pooled per block, each
/// query block scores the key blocks it can see (softmax of pooled q̄·k̄ · scale), and keeps the
/// fewest highest-scoring blocks whose mass reaches `threshold`, plus the first block (the
/// attention sink) and the `localBlocks` blocks at its diagonal.
///
/// With `permutationSegment` > 0 the keys are first reordered within segments of that many
/// blocks, most important first (importance: the key's dot product with the mean query of its
/// KV head's group), so the keys that matter fill fewer blocks. Queries keep their order; the
/// plan's `keyOrder` carries each permuted key's original position, which the attention's causal
/// rule uses, and every block of the segment holding a query block's diagonal is kept (its
/// permuted keys mix past and future).
public struct BlockSelection: Sendable, Hashable {
    public var blockSize: Int
    /// Attention mass (0...1) the kept blocks must reach per query block.
    public var threshold: Double
    /// Blocks kept at each query block's diagonal (local attention).
    public var localBlocks: Int
    /// Keep the first key block (the attention sink).
    public var keepSink: Bool
    /// Reorder keys within segments of this many blocks (0: keys stay in order).
    public var permutationSegment: Int

    public init(
        blockSize: Int = 64, threshold: Double = 0.9, localBlocks: Int = 1, keepSink: Bool = true,
        permutationSegment: Int = 0
    ) {
        self.blockSize = blockSize
        self.threshold = threshold
        self.localBlocks = localBlocks
        self.keepSink = keepSink
        self.permutationSegment = permutationSegment
    }

    /// The selection's outcome: the block mask (one list per head) and, when keys were permuted,
    /// the order to gather K and V in (new index → original position, per KV head).
    public struct Plan: Sendable {
        public let mask: BlockMask
        public let keyOrder: [Int]?

        /// The block-sparse problem to run over K and V gathered in `keyOrder`.
        public func problem(_ attention: AttentionProblem) -> BlockSparseAttentionProblem {
            BlockSparseAttentionProblem(attention: attention, mask: mask, keyPositions: keyOrder)
        }
    }

    /// Plans attention for `problem` (batch 1) from its queries and keys in the problem's layouts.
    public func plan(_ problem: AttentionProblem, queries: [Float], keys: [Float]) throws(OpError) -> Plan {
        func fail(_ detail: String) -> OpError { .invalidArgument(op: "block selection", detail: detail) }
        let p = problem, d = p.headDim, bs = blockSize
        guard p.batch == 1 else { throw fail("plans one sequence (batch 1), got a batch of \(p.batch)") }
        guard (1...BlockSparseAttentionProblem.maxBlockSize).contains(bs), (0...1).contains(threshold),
            localBlocks >= 0, permutationSegment >= 0
        else {
            throw fail(
                "block size 1...\(BlockSparseAttentionProblem.maxBlockSize), threshold 0...1, local blocks and segment ≥ 0"
            )
        }
        guard p.heads % p.kvHeads == 0, queries.count == p.heads * p.seqQ * d, keys.count == p.kvHeads * p.kvStride * d
        else {
            throw fail("queries and keys do not match the problem's shapes")
        }
        let queryBlocks = (p.seqQ + bs - 1) / bs, keyBlocks = (p.seqK + bs - 1) / bs, group = p.heads / p.kvHeads
        let order = permutationSegment > 0 ? keyOrder(p, queries: queries, keys: keys) : nil
        let segmentKeys = max(1, permutationSegment) * bs

        // Pooled keys per (KV head, block) in the (permuted) order, pooled queries per (head, block).
        var pooledKeys = [Double](repeating: 0, count: p.kvHeads * keyBlocks * d)
        for h in 0..<p.kvHeads {
            for j in 0..<p.seqK {
                let source = (h * p.kvStride + (order?[h * p.seqK + j] ?? j)) * d, target = (h * keyBlocks + j / bs) * d
                for x in 0..<d { pooledKeys[target + x] += Double(keys[source + x]) }
            }
        }
        var pooledQueries = [Double](repeating: 0, count: p.heads * queryBlocks * d)
        for h in 0..<p.heads {
            for i in 0..<p.seqQ {
                let source = p.queryRow(batch: 0, head: h, query: i), target = (h * queryBlocks + i / bs) * d
                for x in 0..<d { pooledQueries[target + x] += Double(queries[source + x]) }
            }
        }
        let blockKeys = { (block: Int) in Double(min(bs, p.seqK - block * bs)) },
            blockQueries = { (block: Int) in Double(min(bs, p.seqQ - block * bs)) }

        var lists: [[Int]] = []
        for h in 0..<p.heads {
            for qb in 0..<queryBlocks {
                var visible = BlockMask.visible(
                    queryBlock: qb, blockSize: bs, seqQ: p.seqQ, seqK: p.seqK, causal: p.causal, offset: p.offset)
                var kept = Set<Int>()
                if p.causal, order != nil {
                    // A permuted segment mixes earlier and later keys: the diagonal's whole segment is visible and kept.
                    let lastPosition = p.offset + min((qb + 1) * bs, p.seqQ) - 1
                    let segmentEnd = min(keyBlocks, (lastPosition / segmentKeys + 1) * segmentKeys / bs)
                    visible = 0..<segmentEnd
                    kept.formUnion((lastPosition / segmentKeys) * segmentKeys / bs..<segmentEnd)
                }
                if keepSink, !visible.isEmpty { kept.insert(0) }
                if threshold >= 1 { kept.formUnion(visible) }
                kept.formUnion(visible.suffix(localBlocks))
                let scores = visible.map { kb -> Double in
                    var dot = 0.0
                    for x in 0..<d {
                        dot +=
                            pooledQueries[(h * queryBlocks + qb) * d + x]
                            * pooledKeys[((h / group) * keyBlocks + kb) * d + x]
                    }
                    return dot / (blockQueries(qb) * blockKeys(kb)) * Double(p.scale)
                }
                if let top = scores.max() {
                    let weights = scores.map { exp($0 - top) }, total = weights.reduce(0, +)
                    var mass = 0.0
                    for (index, weight) in weights.enumerated().sorted(by: { $0.element > $1.element })
                    where mass < threshold * total {
                        kept.insert(visible.lowerBound + index)
                        mass += weight
                    }
                }
                lists.append(kept.sorted())
            }
        }
        return Plan(
            mask: try BlockMask(blockSize: bs, queryBlocks: queryBlocks, keyBlocks: keyBlocks, lists: lists),
            keyOrder: order)
    }

    /// Per KV head, its keys sorted within each segment by their dot product with the mean
    /// query of the heads reading them (stable, most important first).
    private func keyOrder(_ p: AttentionProblem, queries: [Float], keys: [Float]) -> [Int] {
        let d = p.headDim, group = p.heads / p.kvHeads, segment = permutationSegment * blockSize
        var order: [Int] = []
        order.reserveCapacity(p.kvHeads * p.seqK)
        for h in 0..<p.kvHeads {
            var meanQuery = [Double](repeating: 0, count: d)
            for head in h * group..<(h + 1) * group {
                for i in 0..<p.seqQ {
                    let row = p.queryRow(batch: 0, head: head, query: i)
                    for x in 0..<d { meanQuery[x] += Double(queries[row + x]) }
                }
            }
            let importance = (0..<p.seqK).map { j -> Double in
                var dot = 0.0
                for x in 0..<d { dot += meanQuery[x] * Double(keys[(h * p.kvStride + j) * d + x]) }
                return dot
            }
            for start in stride(from: 0, to: p.seqK, by: segment) {
                order += (start..<min(p.seqK, start + segment)).sorted {
                    importance[$0] > importance[$1] || (importance[$0] == importance[$1] && $0 < $1)
                }
            }
        }
        return order
    }
}
