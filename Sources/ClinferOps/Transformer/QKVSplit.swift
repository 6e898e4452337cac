/// The output of a fused QKV projection of a padded batch split into the layouts attention
/// reads, with the projection's bias added on the way (encoder models: BERT):
/// `qkv` [batch·seq, 3·heads·headDim] (each row Q | K | V) plus `bias` [3·heads·headDim] becomes
/// Q [batch, seq, heads, headDim] (token-major, so attention's `tokenMajor` output lines up with
/// the next projection) and K, V [batch, heads, seq, headDim].
public struct QKVSplitProblem: Sendable, Hashable {
    public var batch: Int
    public var seq: Int
    public var heads: Int
    public var headDim: Int

    public init(batch: Int, seq: Int, heads: Int, headDim: Int) {
        self.batch = batch
        self.seq = seq
        self.heads = heads
        self.headDim = headDim
    }

    /// Width of Q (and of K and V): heads · headDim.
    public var hidden: Int { heads * headDim }
    /// Rows of the projection: batch · seq.
    public var tokens: Int { batch * seq }

    func validate(
        qkv: some TensorOperand, bias: (some TensorOperand)?, q: some TensorOperand, k: some TensorOperand,
        v: some TensorOperand
    ) throws(OpError) {
        guard batch >= 1, seq >= 1, heads >= 1, headDim >= 1 else {
            throw .invalidArgument(op: "split qkv", detail: "batch, seq, heads and headDim must be ≥ 1")
        }
        try qkv.requireCount(tokens * 3 * hidden, op: "split qkv", name: "qkv")
        if let bias { try bias.requireCount(3 * hidden, op: "split qkv", name: "bias") }
        for (name, operand) in [("q", q), ("k", k), ("v", v)] as [(String, any TensorOperand)] {
            try operand.requireCount(tokens * hidden, op: "split qkv", name: name)
        }
        for type in [qkv.elementType, q.elementType, k.elementType, v.elementType, bias?.elementType]
        where type != nil && type != .float32 {
            throw .unsupportedType(op: "split qkv", detail: "every operand must be f32")
        }
    }
}

/// Splitting a fused QKV projection for attention: ``OpenCLQKVSplit`` and ``CPUQKVSplit``.
public protocol QKVSplitOperation: Sendable {
    associatedtype Tensor: TensorOperand
    /// Q, K, V = split(qkv + bias); `bias` may be nil.
    func split(_ problem: QKVSplitProblem, qkv: Tensor, bias: Tensor?, q: Tensor, k: Tensor, v: Tensor) throws
}
