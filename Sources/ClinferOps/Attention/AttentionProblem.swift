/// One scaled dot-product attention: O = softmax(Q·Kᵀ·scale + mask) · V per (batch, head).
///
/// Q and O are [batch, heads, seqQ, headDim], or [batch, seqQ, heads, headDim] with
/// `tokenMajor` (the layout a projection produces); K and V are [batch, kvHeads, kvStride,
/// headDim] of which the first seqK keys are used (`kvStride` defaults to seqK; a KV cache passes
/// its capacity). Grouped-query attention when kvHeads < heads: head h reads KV head
/// h / (heads / kvHeads).
/// With `causal`, query i sits at absolute position `offset + i` (queries appended after a KV
/// cache of `offset` positions) and sees keys j ≤ offset + i. The optional additive mask is
/// [seqQ, seqK], shared by every batch and head; -infinity blocks a key. Optional `keyLengths`
/// (one per batch item) mask padding: keys j ≥ keyLengths[b] are skipped for every query of
/// batch item b (a batch of sequences of different lengths padded to seqK; the padded query rows
/// get ordinary outputs over the valid keys, which callers ignore). Optional `kvSlots` read the
/// caches of a pool: K and V hold `kvSequences` sequences [kvSequences, kvHeads, kvStride,
/// headDim] and batch item b reads sequence kvSlots[b] (a batched decode step over the running
/// sequences, or one sequence's prefill). With `window` (sliding-window attention, Gemma 3's
/// local layers), a query at position p also sees only keys j > p − window: the last `window`
/// positions, itself included; p is offset + i when causal, else (one query a batch item) the
/// item's last valid key. A query that sees no key gets a zero output.
public struct AttentionProblem: Sendable, Hashable {
    public var batch: Int
    public var heads: Int
    public var kvHeads: Int
    public var seqQ: Int
    public var seqK: Int
    public var headDim: Int
    public var causal: Bool
    public var offset: Int
    public var scale: Float
    /// Keys allocated per KV head in K and V (≥ seqK).
    public var kvStride: Int
    /// Q and O are [batch, seqQ, heads, headDim] instead of [batch, heads, seqQ, headDim].
    public var tokenMajor: Bool
    /// Valid keys per batch item (each in 0...seqK), or nil when every key is valid.
    public var keyLengths: [Int]?
    /// Sequences K and V hold (batch without `kvSlots`).
    public var kvSequences: Int
    /// The K/V sequence of each batch item (each in 0..<kvSequences), or nil for item b → b.
    public var kvSlots: [Int]?
    /// Keys a query sees at most, counting back from its own position (nil: no limit).
    public var window: Int?

    /// `scale` defaults to 1/√headDim, `kvStride` to seqK.
    public init(
        batch: Int = 1, heads: Int, kvHeads: Int? = nil, seqQ: Int, seqK: Int, headDim: Int,
        causal: Bool = false, offset: Int = 0, scale: Float? = nil, kvStride: Int? = nil, tokenMajor: Bool = false,
        keyLengths: [Int]? = nil, kvSequences: Int? = nil, kvSlots: [Int]? = nil, window: Int? = nil
    ) {
        self.window = window
        self.batch = batch
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.seqQ = seqQ
        self.seqK = seqK
        self.headDim = headDim
        self.causal = causal
        self.offset = offset
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
        self.kvStride = kvStride ?? seqK
        self.tokenMajor = tokenMajor
        self.keyLengths = keyLengths
        self.kvSequences = kvSequences ?? batch
        self.kvSlots = kvSlots
    }

    /// The keys batch item `b` may attend to (seqK without key lengths).
    func validKeys(batch b: Int) -> Int { keyLengths?[b] ?? seqK }

    /// Whether query `i` of batch item `b` sees key `j` (causal rule and window; key lengths and
    /// the mask apart).
    func sees(batch b: Int, query i: Int, key j: Int) -> Bool {
        if causal && j > offset + i { return false }
        guard let window else { return true }
        let position = causal ? offset + i : validKeys(batch: b) - 1
        return j > position - window
    }

    /// The K/V sequence batch item `b` reads.
    func kvSequence(batch b: Int) -> Int { kvSlots?[b] ?? b }

    /// The offset of query (and output) row `i` of head `h` in batch `b`.
    func queryRow(batch b: Int, head h: Int, query i: Int) -> Int {
        (tokenMajor ? (b * seqQ + i) * heads + h : (b * heads + h) * seqQ + i) * headDim
    }

    /// Head dimensions the kernels serve: multiples of 8 up to this.
    public static let maxHeadDim = 256

    func validate(
        q: some TensorOperand, k: some TensorOperand, v: some TensorOperand, mask: (some TensorOperand)?,
        o: some TensorOperand
    ) throws(OpError) {
        func fail(_ detail: String) -> OpError { .invalidArgument(op: "attention", detail: detail) }
        guard batch >= 1, heads >= 1, kvHeads >= 1, seqQ >= 1, seqK >= 1 else {
            throw fail("every dimension must be at least 1")
        }
        guard heads % kvHeads == 0 else { throw fail("heads (\(heads)) must be a multiple of kvHeads (\(kvHeads))") }
        guard headDim >= 8, headDim % 8 == 0, headDim <= Self.maxHeadDim else {
            throw .unsupportedType(
                op: "attention", detail: "head dimension \(headDim) is not a multiple of 8 in 8...\(Self.maxHeadDim)")
        }
        guard offset >= 0, scale.isFinite else { throw fail("offset must be ≥ 0 and scale finite") }
        if let window {
            guard window >= 1 else { throw fail("window must be ≥ 1, got \(window)") }
            guard causal || seqQ == 1 else { throw fail("a window needs causal attention or one query") }
        }
        guard kvStride >= seqK else { throw fail("kvStride (\(kvStride)) must be at least seqK (\(seqK))") }
        if let keyLengths {
            guard keyLengths.count == batch else {
                throw fail("\(keyLengths.count) key lengths for a batch of \(batch)")
            }
            guard keyLengths.allSatisfy({ (0...seqK).contains($0) }) else {
                throw fail("key lengths must lie in 0...\(seqK)")
            }
        }
        try q.requireCount(batch * heads * seqQ * headDim, op: "attention", name: "Q")
        if let kvSlots {
            guard kvSlots.count == batch else { throw fail("\(kvSlots.count) K/V slots for a batch of \(batch)") }
            guard kvSlots.allSatisfy({ (0..<kvSequences).contains($0) }) else {
                throw fail("K/V slots must lie in 0..<\(kvSequences)")
            }
        } else {
            guard kvSequences == batch else {
                throw fail("K/V hold \(kvSequences) sequences for a batch of \(batch): pass kvSlots")
            }
        }
        try k.requireCount(kvSequences * kvHeads * kvStride * headDim, op: "attention", name: "K")
        try v.requireCount(kvSequences * kvHeads * kvStride * headDim, op: "attention", name: "V")
        try o.requireCount(batch * heads * seqQ * headDim, op: "attention", name: "O")
        guard q.elementType == .float32, o.elementType == .float32 else {
            throw .unsupportedType(op: "attention", detail: "Q and O must be f32")
        }
        guard k.elementType == v.elementType else {
            throw .unsupportedType(op: "attention", detail: "K and V must share an element type")
        }
        if let mask {
            try mask.requireCount(seqQ * seqK, op: "attention", name: "mask")
            guard mask.elementType == .float32 else {
                throw .unsupportedType(op: "attention", detail: "the mask must be f32")
            }
        }
    }
}

/// The fused attention op family: ``OpenCLAttention`` and ``CPUAttention``.
public protocol AttentionOperation: Sendable {
    associatedtype Tensor: TensorOperand
    func attention(_ problem: AttentionProblem, q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, o: Tensor) throws
}
