/// Block-sparse attention: ``AttentionProblem``'s computation (shapes, GQA, causal rule with a
/// query offset, scale, layouts) restricted to the key blocks `mask` lists per query block.
/// With `keyPositions` the keys (and values) were permuted per KV head so that important keys
/// share blocks: key j of KV head h sits at original position keyPositions[h · seqK + j], and the
/// causal rule compares original positions, so the result is that of attention over the keys in
/// their original order restricted to the visited blocks. With a mask listing every visible
/// block it equals dense attention.
public struct BlockSparseAttentionProblem: Sendable, Hashable {
    public var attention: AttentionProblem
    public var mask: BlockMask
    /// Per KV head, each key's original position ([kvHeads · seqK]), or nil for keys in order.
    public var keyPositions: [Int]?

    public init(attention: AttentionProblem, mask: BlockMask, keyPositions: [Int]? = nil) {
        self.attention = attention
        self.mask = mask
        self.keyPositions = keyPositions
    }

    /// Largest block size the kernel serves (a block's scores live in private memory).
    public static let maxBlockSize = 256

    /// The original position of key `j` of KV head `kvHead`.
    func position(kvHead: Int, key j: Int) -> Int { keyPositions?[kvHead * attention.seqK + j] ?? j }

    func validate(
        q: some TensorOperand, k: some TensorOperand, v: some TensorOperand, o: some TensorOperand
    ) throws(OpError) {
        func fail(_ detail: String) -> OpError { .invalidArgument(op: "block-sparse attention", detail: detail) }
        let a = attention
        try a.validate(q: q, k: k, v: v, mask: nil as HostTensor?, o: o)
        guard a.keyLengths == nil, a.kvSlots == nil else {
            throw fail("key lengths and K/V slots are not supported: mask the blocks instead")
        }
        guard (1...Self.maxBlockSize).contains(mask.blockSize) else {
            throw fail("block size \(mask.blockSize) outside 1...\(Self.maxBlockSize)")
        }
        let queryBlocks = (a.seqQ + mask.blockSize - 1) / mask.blockSize,
            keyBlocks = (a.seqK + mask.blockSize - 1) / mask.blockSize
        guard mask.queryBlocks == queryBlocks, mask.keyBlocks == keyBlocks else {
            throw fail(
                "the mask is \(mask.queryBlocks)×\(mask.keyBlocks) blocks, the problem needs \(queryBlocks)×\(keyBlocks) of \(mask.blockSize)"
            )
        }
        guard mask.heads == 1 || mask.heads == a.heads else {
            throw fail("the mask has \(mask.heads) heads, the problem \(a.heads)")
        }
        if let keyPositions {
            guard keyPositions.count == a.kvHeads * a.seqK, keyPositions.allSatisfy({ (0..<a.seqK).contains($0) })
            else {
                throw fail("key positions must be kvHeads × seqK = \(a.kvHeads * a.seqK) values in 0..<\(a.seqK)")
            }
        }
    }
}

/// The block-sparse attention op family: ``OpenCLBlockSparseAttention`` and ``CPUBlockSparseAttention``.
public protocol BlockSparseAttentionOperation: Sendable {
    associatedtype Tensor: TensorOperand
    func attention(_ problem: BlockSparseAttentionProblem, q: Tensor, k: Tensor, v: Tensor, o: Tensor) throws
}
