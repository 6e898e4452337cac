import Foundation

/// Rotary position embedding tables: cos and sin of pos·base^(−2i/d) for every position and
/// pair, computed once in double precision (exact to fp32 rounding even at long positions, where
/// computing the angle in fp32 on a device would lose digits).
public struct RoPETable: Sendable {
    public let headDim: Int
    public let positions: Int
    public let base: Double
    /// [positions, headDim / 2] each.
    public let cos: [Float], sin: [Float]

    public init(headDim: Int, positions: Int, base: Double) throws(OpError) {
        guard headDim >= 2, headDim % 2 == 0, positions >= 1, base > 1, base.isFinite else {
            throw .invalidArgument(
                op: "RoPE",
                detail:
                    "needs an even head dimension, ≥ 1 positions and a base > 1 (got \(headDim), \(positions), \(base))"
            )
        }
        self.headDim = headDim
        self.positions = positions
        self.base = base
        let pairs = headDim / 2
        var cosines = [Float](repeating: 0, count: positions * pairs), sines = cosines
        for i in 0..<pairs {
            let frequency = Foundation.pow(base, -2 * Double(i) / Double(headDim))
            for position in 0..<positions {
                let angle = Double(position) * frequency
                cosines[position * pairs + i] = Float(Foundation.cos(angle))
                sines[position * pairs + i] = Float(Foundation.sin(angle))
            }
        }
        cos = cosines
        sin = sines
    }
}

/// Where one token's key and value go in a cache pool: a sequence (slot) and a position in it.
public struct CachePlacement: Sendable, Hashable {
    public var slot: Int
    public var position: Int

    public init(slot: Int, position: Int) {
        self.slot = slot
        self.position = position
    }
}

/// One application of RoPE to the output of a fused QKV projection, also appending K and V to a
/// KV cache: `qkv` [tokens, (heads + 2·kvHeads)·headDim] becomes rotated Q [tokens, heads,
/// headDim] and K and V rows in caches [slots, kvHeads, kvStride, headDim]: rows
/// `position..<position + tokens` of sequence `slot` (a prompt), or with `placements` one
/// (slot, position) per token (a batched decode step, a token of each running sequence).
public struct RoPEProblem: Sendable, Hashable {
    public var tokens: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// The absolute position of the first token.
    public var position: Int
    /// Positions allocated per KV head in the cache.
    public var kvStride: Int
    /// Sequences the caches hold.
    public var slots: Int
    /// The sequence the tokens belong to (without `placements`).
    public var slot: Int
    /// Per token, its sequence and position (overrides `position` and `slot`).
    public var placements: [CachePlacement]?
    /// Rotate pairs (i, i + d/2) (GPT-NeoX) instead of (2i, 2i + 1) (llama.cpp's "normal" RoPE,
    /// used for Llama GGUF files, whose Q/K weights were permuted to match).
    public var neox: Bool
    /// With a value, Q and K heads are RMS-normalised with this epsilon before rotating, by the
    /// per-head weights passed as `qNorm` and `kNorm` (Gemma 3's `attn_q_norm`/`attn_k_norm`).
    public var headNormEps: Float?

    public init(
        tokens: Int, heads: Int, kvHeads: Int, headDim: Int, position: Int, kvStride: Int, neox: Bool = false,
        slots: Int = 1, slot: Int = 0, placements: [CachePlacement]? = nil, headNormEps: Float? = nil
    ) {
        self.headNormEps = headNormEps
        self.tokens = tokens
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.position = position
        self.kvStride = kvStride
        self.neox = neox
        self.slots = slots
        self.slot = slot
        self.placements = placements
    }

    /// Where token `t` goes.
    func placement(ofToken t: Int) -> CachePlacement {
        placements?[t] ?? CachePlacement(slot: slot, position: position + t)
    }

    /// Width of one token's fused QKV row.
    public var qkvWidth: Int { (heads + 2 * kvHeads) * headDim }

    func validate(
        qkv: some TensorOperand, table: RoPETable, q: some TensorOperand, k: some TensorOperand, v: some TensorOperand,
        qNorm: (some TensorOperand)?, kNorm: (some TensorOperand)?
    ) throws(OpError) {
        func fail(_ detail: String) -> OpError { .invalidArgument(op: "RoPE", detail: detail) }
        switch (headNormEps, qNorm, kNorm) {
        case (nil, nil, nil): break
        case (let eps?, let qNorm?, let kNorm?):
            guard eps >= 0, eps.isFinite else { throw fail("head norm epsilon \(eps)") }
            try qNorm.requireCount(headDim, op: "RoPE", name: "q norm")
            try kNorm.requireCount(headDim, op: "RoPE", name: "k norm")
        default: throw fail("a head norm needs an epsilon and both the Q and K weights")
        }
        guard tokens >= 1, heads >= 1, kvHeads >= 1, position >= 0 else {
            throw fail("tokens, heads and kvHeads must be ≥ 1, position ≥ 0")
        }
        guard headDim == table.headDim else {
            throw fail("table is for head dimension \(table.headDim), problem has \(headDim)")
        }
        let limit = min(kvStride, table.positions)
        if let placements {
            guard placements.count == tokens else { throw fail("\(placements.count) placements for \(tokens) tokens") }
            guard placements.allSatisfy({ (0..<slots).contains($0.slot) && (0..<limit).contains($0.position) }) else {
                throw fail(
                    "placements must lie in slots 0..<\(slots) and positions 0..<\(limit) (cache \(kvStride), table \(table.positions))"
                )
            }
        } else {
            guard (0..<slots).contains(slot) else { throw fail("slot \(slot) outside 0..<\(slots)") }
            guard position + tokens <= limit else {
                throw fail(
                    "positions \(position)..<\(position + tokens) exceed the cache (\(kvStride)) or table (\(table.positions))"
                )
            }
        }
        try qkv.requireCount(tokens * qkvWidth, op: "RoPE", name: "qkv")
        try q.requireCount(tokens * heads * headDim, op: "RoPE", name: "q")
        try k.requireCount(slots * kvHeads * kvStride * headDim, op: "RoPE", name: "k cache")
        try v.requireCount(slots * kvHeads * kvStride * headDim, op: "RoPE", name: "v cache")
        guard qkv.elementType == .float32, q.elementType == .float32, k.elementType == v.elementType else {
            throw .unsupportedType(op: "RoPE", detail: "qkv and q must be f32, and the K and V caches share a type")
        }
    }
}

/// RoPE with the QKV split and cache append: ``OpenCLRoPE`` and ``CPURoPE``.
public protocol RoPEOperation: Sendable {
    associatedtype Tensor: TensorOperand
    /// `qNorm` and `kNorm` [headDim]: the per-head RMSNorm weights, when `problem.headNormEps` is set.
    func apply(
        _ problem: RoPEProblem, qkv: Tensor, q: Tensor, k: Tensor, v: Tensor, qNorm: Tensor?, kNorm: Tensor?)
        throws
}

extension RoPEOperation {
    /// RoPE without head norms.
    public func apply(_ problem: RoPEProblem, qkv: Tensor, q: Tensor, k: Tensor, v: Tensor) throws {
        try apply(problem, qkv: qkv, q: q, k: k, v: v, qNorm: nil, kNorm: nil)
    }
}
