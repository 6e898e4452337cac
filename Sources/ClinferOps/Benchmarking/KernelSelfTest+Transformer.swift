import OpenCLKit

extension KernelSelfTest {
    static let transformerChecks: [KernelSelfTest] = [
        KernelSelfTest("rms_norm + residual, layer_norm (work-groups 1 and 4)", file: "norm.cl") { backend in
            var worst: Float = 0
            for group in [1, 4] where group <= backend.device.maxWorkGroupSize {
                let norm = try OpenCLNorm(backend: backend, workGroup: group)
                for kind in [NormProblem.Kind.rms, .layer] {
                    for residual in [false, true] {
                        worst = max(
                            worst,
                            try normError(
                                NormProblem(kind, rows: 3, width: 13, eps: 1e-5), residual: residual, norm: norm))
                    }
                }
            }
            return worst
        },
        KernelSelfTest("rope_qkv normal and neox, f32 and f16 cache", file: "rope.cl") { backend in
            var worst: Float = 0
            for neox in [false, true] {
                for half in [false, true] {
                    let problem = RoPEProblem(
                        tokens: 3, heads: 2, kvHeads: 1, headDim: 8, position: 2, kvStride: 6, neox: neox)
                    worst = max(worst, try ropeError(problem, cacheHalf: half, backend: backend))
                    // A cache pool: one prompt into slot 1, then a decode step placing a token per sequence.
                    let prompt = RoPEProblem(
                        tokens: 2, heads: 2, kvHeads: 1, headDim: 8, position: 1, kvStride: 6, neox: neox, slots: 3,
                        slot: 1)
                    let placed = [
                        CachePlacement(slot: 2, position: 5), CachePlacement(slot: 0, position: 0),
                        CachePlacement(slot: 1, position: 3),
                    ]
                    let step = RoPEProblem(
                        tokens: 3, heads: 2, kvHeads: 1, headDim: 8, position: 0, kvStride: 6, neox: neox, slots: 3,
                        placements: placed)
                    worst = max(
                        worst, try ropeError(prompt, cacheHalf: half, backend: backend),
                        try ropeError(step, cacheHalf: half, backend: backend))
                }
            }
            return worst
        },
        KernelSelfTest("rope_qkv with per-head Q/K norms (prompt and placed decode step)", file: "rope.cl") { backend in
            let prompt = RoPEProblem(
                tokens: 3, heads: 2, kvHeads: 1, headDim: 16, position: 2, kvStride: 6, neox: true, headNormEps: 1e-6)
            let step = RoPEProblem(
                tokens: 2, heads: 4, kvHeads: 2, headDim: 8, position: 0, kvStride: 5, slots: 2,
                placements: [CachePlacement(slot: 1, position: 4), CachePlacement(slot: 0, position: 1)],
                headNormEps: 1e-5)
            return max(
                try ropeError(prompt, backend: backend), try ropeError(step, cacheHalf: true, backend: backend))
        },
        KernelSelfTest("gated_activation (SiLU, tanh GELU), gelu_erf, add", file: "activation.cl", tolerance: 1e-5) {
            backend in
            try activationError(tokens: 3, width: 7, backend: backend)
        },
        KernelSelfTest("bias_add, bias_gelu_erf", file: "activation.cl", tolerance: 1e-5) { backend in
            try biasActivationError(rows: 3, width: 7, backend: backend)
        },
        KernelSelfTest("split_qkv with and without bias", file: "qkv_split.cl") { backend in
            max(
                try qkvSplitError(
                    QKVSplitProblem(batch: 2, seq: 3, heads: 2, headDim: 4), bias: true, backend: backend),
                try qkvSplitError(
                    QKVSplitProblem(batch: 1, seq: 5, heads: 3, headDim: 2), bias: false, backend: backend))
        },
    ]
}

/// A normalisation on the device and the CPU from the same random inputs; the relative error of
/// the output and of the updated residual stream, whichever is larger.
package func normError(_ problem: NormProblem, residual: Bool, norm: OpenCLNorm, seed: UInt64 = 5) throws -> Float {
    let backend = norm.backend
    let count = problem.rows * problem.width
    let x = SplitMix64.floats(count, seed: seed, in: -3...3),
        r = residual ? SplitMix64.floats(count, seed: seed + 1) : nil
    let weight = SplitMix64.floats(problem.width, seed: seed + 2, in: 0.5...1.5)
    let bias = problem.kind == .layer ? SplitMix64.floats(problem.width, seed: seed + 3) : nil
    let hostX = HostTensor(x), hostOut = HostTensor(zeros: count)
    try CPUNorm().normalize(
        problem, x: hostX, residual: r.map(HostTensor.init), weight: HostTensor(weight),
        bias: bias.map(HostTensor.init), out: hostOut)
    let deviceX = try DeviceTensor(backend: backend, copying: HostTensor(x)),
        deviceOut = try DeviceTensor(backend: backend, count: count)
    try norm.encode(
        problem, x: deviceX, residual: try r.map { try DeviceTensor(backend: backend, copying: HostTensor($0)) },
        weight: try DeviceTensor(backend: backend, copying: HostTensor(weight)),
        bias: try bias.map { try DeviceTensor(backend: backend, copying: HostTensor($0)) }, out: deviceOut)
    return max(
        maxRelativeError(try deviceOut.download(backend.queue).floats, hostOut.floats),
        maxRelativeError(try deviceX.download(backend.queue).floats, hostX.floats))
}

/// RoPE with the QKV split and cache append on the device and the CPU; the relative error over
/// Q and both caches (the cache starts from the same random contents, so rows the op must not
/// touch are checked too).
package func ropeError(
    _ problem: RoPEProblem, cacheHalf: Bool = false, base: Double = 10000, backend: OpenCLBackend, seed: UInt64 = 6
) throws -> Float {
    let table = try RoPETable(headDim: problem.headDim, positions: problem.kvStride, base: base)
    let qkv = SplitMix64.floats(problem.tokens * problem.qkvWidth, seed: seed, in: -2...2)
    let qCount = problem.tokens * problem.heads * problem.headDim,
        cacheCount = problem.slots * problem.kvHeads * problem.kvStride * problem.headDim
    let kInit = HostTensor(SplitMix64.floats(cacheCount, seed: seed + 1)).converted(to: cacheHalf ? .float16 : .float32)
    let vInit = HostTensor(SplitMix64.floats(cacheCount, seed: seed + 2)).converted(to: cacheHalf ? .float16 : .float32)
    let q = HostTensor(zeros: qCount), k = HostTensor(kInit.floats), v = HostTensor(vInit.floats)
    // Per-head norm weights around 1, when the problem normalises heads.
    let norms =
        problem.headNormEps == nil
        ? nil
        : (
            HostTensor(SplitMix64.floats(problem.headDim, seed: seed + 3, in: 0.5...1.5)),
            HostTensor(SplitMix64.floats(problem.headDim, seed: seed + 4, in: 0.5...1.5))
        )
    try CPURoPE(table: table).apply(
        problem, qkv: HostTensor(qkv), q: q, k: k, v: v, qNorm: norms?.0, kNorm: norms?.1)
    let deviceQ = try DeviceTensor(backend: backend, count: qCount)
    let deviceK = try DeviceTensor(backend: backend, copying: kInit),
        deviceV = try DeviceTensor(backend: backend, copying: vInit)
    try OpenCLRoPE(backend: backend, table: table).encode(
        problem, qkv: DeviceTensor(backend: backend, copying: HostTensor(qkv)),
        q: deviceQ, k: deviceK, v: deviceV, qNorm: try norms.map { try DeviceTensor(backend: backend, copying: $0.0) },
        kNorm: try norms.map { try DeviceTensor(backend: backend, copying: $0.1) })
    // An fp16 cache rounds each stored value: compare against the reference rounded the same way.
    let rounded = { (values: [Float]) in cacheHalf ? values.map { Float(Float16($0)) } : values }
    return max(
        maxRelativeError(try deviceQ.download(backend.queue).floats, q.floats),
        maxRelativeError(try deviceK.download(backend.queue).floats, rounded(k.floats)),
        maxRelativeError(try deviceV.download(backend.queue).floats, rounded(v.floats)))
}

/// Both gated activations (SwiGLU, GeGLU), GELU and add on the device and the CPU; the largest
/// relative error.
package func activationError(tokens: Int, width: Int, backend: OpenCLBackend, seed: UInt64 = 7) throws -> Float {
    let device = OpenCLActivation(backend: backend), host = CPUActivation()
    let gateUp = SplitMix64.floats(tokens * 2 * width, seed: seed, in: -6...6)
    var gatedError: Float = 0
    for gate in GatedActivation.allCases {
        let hostOut = HostTensor(zeros: tokens * width),
            deviceOut = try DeviceTensor(backend: backend, count: tokens * width)
        try host.gated(gate, tokens: tokens, width: width, gateUp: HostTensor(gateUp), out: hostOut)
        try device.gated(
            gate, tokens: tokens, width: width, gateUp: DeviceTensor(backend: backend, copying: HostTensor(gateUp)),
            out: deviceOut)
        gatedError = max(gatedError, maxRelativeError(try deviceOut.download(backend.queue).floats, hostOut.floats))
    }
    let x = SplitMix64.floats(tokens * width, seed: seed + 1, in: -4...4),
        y = SplitMix64.floats(tokens * width, seed: seed + 2)
    let hostX = HostTensor(x), deviceX = try DeviceTensor(backend: backend, copying: HostTensor(x))
    try host.geluErf(hostX)
    try device.geluErf(deviceX)
    try host.add(hostX, HostTensor(y))
    try device.add(deviceX, DeviceTensor(backend: backend, copying: HostTensor(y)))
    return max(gatedError, maxRelativeError(try deviceX.download(backend.queue).floats, hostX.floats))
}

/// Bias add and bias + GELU over [rows, width] on the device and the CPU; the largest relative error.
package func biasActivationError(rows: Int, width: Int, backend: OpenCLBackend, seed: UInt64 = 8) throws -> Float {
    let device = OpenCLActivation(backend: backend), host = CPUActivation()
    let bias = HostTensor(SplitMix64.floats(width, seed: seed, in: -2...2))
    let deviceBias = try DeviceTensor(backend: backend, copying: bias)
    var worst: Float = 0
    for gelu in [false, true] {
        let x = SplitMix64.floats(rows * width, seed: seed + (gelu ? 2 : 1), in: -4...4)
        let hostX = HostTensor(x), deviceX = try DeviceTensor(backend: backend, copying: HostTensor(x))
        if gelu {
            try host.biasGeluErf(hostX, bias: bias)
            try device.biasGeluErf(deviceX, bias: deviceBias)
        } else {
            try host.biasAdd(hostX, bias: bias)
            try device.biasAdd(deviceX, bias: deviceBias)
        }
        worst = max(worst, maxRelativeError(try deviceX.download(backend.queue).floats, hostX.floats))
    }
    return worst
}

/// The QKV split (with or without bias) on the device and the CPU from the same random
/// projection; the largest relative error over Q, K and V.
package func qkvSplitError(
    _ problem: QKVSplitProblem, bias: Bool, backend: OpenCLBackend, seed: UInt64 = 10
) throws -> Float {
    let qkv = HostTensor(SplitMix64.floats(problem.tokens * 3 * problem.hidden, seed: seed, in: -2...2))
    let offsets = bias ? HostTensor(SplitMix64.floats(3 * problem.hidden, seed: seed + 1)) : nil
    let count = problem.tokens * problem.hidden
    let q = HostTensor(zeros: count), k = HostTensor(zeros: count), v = HostTensor(zeros: count)
    try CPUQKVSplit().split(problem, qkv: qkv, bias: offsets, q: q, k: k, v: v)
    let outputs = try (0..<3).map { _ in try DeviceTensor(backend: backend, count: count) }
    try OpenCLQKVSplit(backend: backend).encode(
        problem, qkv: DeviceTensor(backend: backend, copying: qkv),
        bias: try offsets.map { try DeviceTensor(backend: backend, copying: $0) },
        q: outputs[0], k: outputs[1], v: outputs[2])
    return try zip(outputs, [q, k, v]).map { device, host in
        maxRelativeError(try device.download(backend.queue).floats, host.floats)
    }.max()!
}
