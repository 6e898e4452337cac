import ClinferOps

/// What a model's forward pass needs from the hardware: tensors, weights in the backend's form,
/// and the ops of a transformer block. Model code is written once against this protocol;
/// ``OpenCLTransformerOps`` enqueues kernels (no host round trip until logits are read) and
/// ``CPUTransformerOps`` runs the Swift fallback, op for op the same computation.
public protocol TransformerOps: AnyObject, Sendable {
    associatedtype Tensor: TensorOperand & Sendable
    associatedtype Weight: Sendable

    /// A short name for logs and stats ("opencl: <device>", "cpu").
    var name: String { get }

    /// A tensor of `count` fp32 values (contents undefined until written).
    func tensor(count: Int) throws -> Tensor
    /// A KV-cache tensor of `count` values, zeroed.
    func cacheTensor(count: Int) throws -> Tensor
    /// A tensor holding `values`.
    func constant(_ values: [Float]) throws -> Tensor
    /// Overwrites `tensor` with `values` (same count).
    func write(_ values: [Float], to tensor: Tensor) throws
    /// Reads the tensor back, after every op queued before.
    func read(_ tensor: Tensor) throws -> [Float]
    /// Copies `count` values from `source` at `sourceOffset` to the start of `destination`.
    func copy(_ source: Tensor, offset sourceOffset: Int, count: Int, to destination: Tensor) throws

    /// The weight prepared for ``matmul(_:_:_:rows:)`` (uploaded, repacked or dequantized).
    func weight(_ weight: LinearWeight) throws -> Weight
    /// y = x · Wᵀ for `rows` rows.
    func matmul(_ x: Tensor, _ weight: Weight, _ y: Tensor, rows: Int) throws
    func normalize(_ problem: NormProblem, x: Tensor, residual: Tensor?, weight: Tensor, bias: Tensor?, out: Tensor) throws
    func rope(_ problem: RoPEProblem, table: RoPETable, qkv: Tensor, q: Tensor, k: Tensor, v: Tensor) throws
    func attention(_ problem: AttentionProblem, q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, o: Tensor) throws
    func swiglu(tokens: Int, width: Int, gateUp: Tensor, out: Tensor) throws
    func geluErf(_ x: Tensor) throws
    func add(_ x: Tensor, _ y: Tensor) throws

    // Encoder models (BERT): linear-layer biases and the QKV split of a padded batch.
    /// x[r, j] += bias[j] for x [rows, bias.count].
    func biasAdd(_ x: Tensor, bias: Tensor) throws
    /// x[r, j] = gelu(x[r, j] + bias[j]) (exact erf GELU).
    func biasGeluErf(_ x: Tensor, bias: Tensor) throws
    /// Q (token-major), K and V [batch, heads, seq, headDim] from a fused projection plus its bias.
    func splitQKV(_ problem: QKVSplitProblem, qkv: Tensor, bias: Tensor?, q: Tensor, k: Tensor, v: Tensor) throws
}
