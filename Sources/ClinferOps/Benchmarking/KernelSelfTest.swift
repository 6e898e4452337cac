import OpenCLKit

/// Every kernel variant at tiny shapes, checked against the CPU implementation.
///
/// `clinfer selftest` runs these on a device; `make check-kernels` runs them on the oclgrind
/// simulator, which flags out-of-bounds accesses and data races. Each check names the kernel
/// file it exercises, and a test asserts that every file under Kernels/ is covered. Package
/// access: the CLI and the tests use it; it is not part of the library's API.
package struct KernelSelfTest: Sendable {
    package let name: String
    /// The `Kernels/` file the check exercises.
    package let file: String
    /// Largest acceptable relative error against the CPU result.
    package let tolerance: Float
    private let body: @Sendable (OpenCLBackend) throws -> Float

    /// Runs the check and returns its relative error against the CPU.
    package func run(_ backend: OpenCLBackend) throws -> Float { try body(backend) }

    init(
        _ name: String, file: String, tolerance: Float = 1e-5, body: @escaping @Sendable (OpenCLBackend) throws -> Float
    ) {
        self.name = name
        self.file = file
        self.tolerance = tolerance
        self.body = body
    }

    package static let checks: [KernelSelfTest] =
        gemmChecks + quantChecks + softmaxChecks + attentionChecks + transformerChecks + [
            KernelSelfTest("bandwidth_read n=1001", file: "bandwidth.cl") { backend in
                let values = SplitMix64.floats(1001, seed: 9)
                let sum = try BandwidthProbe(backend: backend).sum(values)
                let expected = values.reduce(0, +)
                return abs(sum - expected) / max(1, abs(expected))
            }
        ]

    static let gemmChecks: [KernelSelfTest] = {
        let shapes = [(1, 1, 1), (5, 7, 9), (3, 17, 33), (18, 5, 20)]
        var checks: [KernelSelfTest] = []
        func add(
            _ label: String, _ config: GEMMKernelConfig, transposeA: Bool = false, transposeB: Bool,
            aType: ElementType = .float32, bType: ElementType = .float32, beta: Float = 0.5
        ) {
            let file =
                switch config {
                case .direct: "gemm_direct.cl"
                case .tiled(let tile): tile.packB && !transposeB ? "gemm_pack.cl" : "gemm_tiled.cl"
                case .skinny: "gemm_skinny.cl"
                }
            checks.append(
                KernelSelfTest("gemm \(label)", file: file) { backend in
                    var worst: Float = 0
                    for (m, n, k) in shapes {
                        let problem = GEMMProblem(
                            m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 1.5, beta: beta)
                        worst = max(
                            worst, try gemmError(problem, config: config, aType: aType, bType: bType, backend: backend))
                    }
                    return worst
                })
        }
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                add(
                    "direct a\(transposeA ? "ᵀ" : "") b\(transposeB ? "ᵀ" : "")", .direct, transposeA: transposeA,
                    transposeB: transposeB)
            }
        }
        add("direct f16", .direct, transposeB: true, aType: .float16, bType: .float16)
        let registerTile = GEMMTileConfig(tm: 2, tn: 2, vw: 4, wgm: 2, wgn: 2)
        let staged = GEMMTileConfig(tm: 2, tn: 2, vw: 4, wgm: 2, wgn: 2, useLocal: true, kwg: 8)
        add("tiled nn", .tiled(registerTile), transposeB: false)
        add("tiled nn aᵀ", .tiled(registerTile), transposeA: true, transposeB: false)
        add("tiled nn vw1", .tiled(GEMMTileConfig(tm: 3, tn: 1, vw: 1, wgm: 2, wgn: 1)), transposeB: false)
        add("tiled nn local", .tiled(staged), transposeB: false)
        add(
            "tiled nn local aᵀ f16", .tiled(staged), transposeA: true, transposeB: false, aType: .float16,
            bType: .float16)
        add(
            "tiled nn packB", .tiled(GEMMTileConfig(tm: 2, tn: 3, vw: 4, wgm: 2, wgn: 1, packB: true)),
            transposeB: false)
        add(
            "tiled nn packB f16", .tiled(GEMMTileConfig(tm: 1, tn: 2, vw: 8, wgm: 1, wgn: 2, packB: true)),
            transposeB: false,
            aType: .float16, bType: .float16)
        add("tiled nt", .tiled(registerTile), transposeB: true)
        add("tiled nt local", .tiled(staged), transposeB: true)
        add("tiled nt f16", .tiled(registerTile), transposeB: true, aType: .float16, bType: .float16, beta: 0)
        add("skinny lk1", .skinny(GEMMSkinnyConfig(maxRows: 2, nr: 2, vw: 4, lk: 1, wgn: 2)), transposeB: true)
        add(
            "skinny lk4 reduction", .skinny(GEMMSkinnyConfig(maxRows: 4, nr: 2, vw: 2, lk: 4, wgn: 2)), transposeB: true
        )
        add(
            "skinny lk2 f16", .skinny(GEMMSkinnyConfig(maxRows: 1, nr: 1, vw: 8, lk: 2, wgn: 3)), transposeB: true,
            aType: .float16, bType: .float16)
        return checks
    }()
}

extension KernelSelfTest {
    static let quantChecks: [KernelSelfTest] = {
        let skinny = GEMMKernelConfig.skinny(GEMMSkinnyConfig(maxRows: 2, nr: 2, vw: 8, lk: 1, wgn: 2))
        let reduced = GEMMKernelConfig.skinny(GEMMSkinnyConfig(maxRows: 2, nr: 1, vw: 4, lk: 4, wgn: 2))
        let tiled = GEMMKernelConfig.tiled(GEMMTileConfig(tm: 2, tn: 2, vw: 16, wgm: 2, wgn: 1))
        let staged = GEMMKernelConfig.tiled(GEMMTileConfig(tm: 2, tn: 2, vw: 4, wgm: 2, wgn: 2, useLocal: true, kwg: 8))
        let cases: [(String, QuantFormat, OpenCLQuantizedMatmul.Path, String)] = [
            ("Q8_0 skinny", .q8_0, .fused(skinny), "gemm_skinny.cl"),
            ("Q4_0 skinny reduction", .q4_0, .fused(reduced), "gemm_skinny.cl"),
            ("Q4_1 tiled", .q4_1, .fused(tiled), "gemm_tiled.cl"),
            ("Q8_0 tiled local", .q8_0, .fused(staged), "gemm_tiled.cl"),
            ("INT4-g64 tiled local", .int4(groupSize: 64), .fused(staged), "gemm_tiled.cl"),
            ("Q4_1 dequantize then GEMM", .q4_1, .dequantizeThenGEMM, "gemm_dequantize.cl"),
            ("Q8_0 dequantize then GEMM", .q8_0, .dequantizeThenGEMM, "gemm_dequantize.cl"),
            (
                "Q4_1 GEMV 3 rows a work-item", .q4_1, .gemv(QuantGEMVConfig(rowsPerItem: 3, lanesPerRow: 1)),
                "quant_gemv.cl"
            ),
            ("Q4_0 GEMV 4 lanes a row", .q4_0, .gemv(QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 4)), "quant_gemv.cl"),
            ("Q8_0 GEMV 3 lanes a row", .q8_0, .gemv(QuantGEMVConfig(rowsPerItem: 1, lanesPerRow: 3)), "quant_gemv.cl"),
            (
                "INT4-g64 GEMV", .int4(groupSize: 64), .gemv(QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 2)),
                "quant_gemv.cl"
            ),
        ]
        // Q5 and K-quant formats: widened to bytes on the device (Q6_K with 16-value groups, Q5_1
        // and Q5_K with offsets) or transcoded to nibbles (Q4_K); K-quants need K % 256 = 0.
        let gemv = "quant_gemv.cl"
        let formatCases: [(String, QuantFormat, OpenCLQuantizedMatmul.Path, String)] = [
            ("Q5_0 GEMV", .q5_0, .gemv(QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 1)), gemv),
            ("Q5_1 GEMV 2 lanes a row", .q5_1, .gemv(QuantGEMVConfig(rowsPerItem: 1, lanesPerRow: 2)), gemv),
            ("Q4_K GEMV", .q4_K, .gemv(QuantGEMVConfig(rowsPerItem: 3, lanesPerRow: 1)), gemv),
            ("Q5_K GEMV 3 lanes a row", .q5_K, .gemv(QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 3)), gemv),
            ("Q6_K GEMV 2 lanes a row", .q6_K, .gemv(QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 2)), gemv),
            ("Q6_K dequantize then GEMM", .q6_K, .dequantizeThenGEMM, "gemm_dequantize.cl"),
            ("Q5_K tiled", .q5_K, .fused(tiled), "gemm_tiled.cl"),
        ]
        var checks = formatCases.map { name, format, path, file in
            KernelSelfTest("quant \(name)", file: file) { backend in
                max(
                    try quantizedMatmulError(format: format, m: 3, n: 5, k: 256, path: path, backend: backend),
                    try quantizedMatmulError(format: format, m: 1, n: 3, k: 512, path: path, backend: backend))
            }
        }
        checks += cases.map { name, format, path, file in
            KernelSelfTest("quant \(name)", file: file) { backend in
                max(
                    try quantizedMatmulError(format: format, m: 3, n: 5, k: 64, path: path, backend: backend),
                    try quantizedMatmulError(format: format, m: 1, n: 3, k: 128, path: path, backend: backend),
                    try quantizedMatmulError(format: format, m: 9, n: 2, k: 192, path: path, backend: backend))
            }
        }
        checks.append(
            KernelSelfTest("quant GEMV gated epilogues, SwiGLU and GeGLU (1 and 4 lanes a row)", file: "quant_gemv.cl")
            {
                backend in
                max(
                    try gatedGEMVError(
                        format: .q4_1, m: 1, n: 5, k: 64, config: QuantGEMVConfig(rowsPerItem: 3, lanesPerRow: 1),
                        backend: backend),
                    try gatedGEMVError(
                        .geluTanh, format: .q5_0, m: 3, n: 3, k: 96,
                        config: QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 4), backend: backend))
            })
        // The integer-dot GEMV against its CPU reference (same int8 x): K of 2, 4, 6 and 9 blocks
        // (a chunk of 4 blocks, chunk tails), several rows of x, lanes along K (the GPU form).
        let dot = "quant_gemv_dot.cl"
        let dotCases: [(String, QuantFormat, QuantGEMVConfig, [Int])] = [
            ("Q4_1", .q4_1, QuantGEMVConfig(rowsPerItem: 3, lanesPerRow: 1), [64, 128, 192, 288]),
            ("Q4_0 4 lanes a row", .q4_0, QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 4), [64, 128, 192, 288]),
            ("Q4_K", .q4_K, QuantGEMVConfig(rowsPerItem: 4, lanesPerRow: 1), [256, 512]),
        ]
        for activations in [GEMVActivations.int8, .int16] {
            checks += dotCases.map { name, format, config, ks in
                KernelSelfTest("quant integer-dot GEMV \(activations) \(name)", file: dot) { backend in
                    var worst: Float = 0
                    for (index, k) in ks.enumerated() {
                        let (m, n) = [(3, 5), (1, 3), (9, 2), (2, 7)][index]
                        worst = max(
                            worst,
                            try quantizedMatmulError(
                                format: format, m: m, n: n, k: k, path: .gemv(config), activations: activations,
                                backend: backend))
                    }
                    return worst
                }
            }
        }
        checks.append(
            KernelSelfTest("quant integer-dot GEMV gated epilogues, int8 and int16 (1 to 4 lanes a row)", file: dot) {
                backend in
                max(
                    try gatedGEMVError(
                        format: .q4_1, m: 1, n: 5, k: 192, config: QuantGEMVConfig(rowsPerItem: 3, lanesPerRow: 1),
                        activations: .int8, backend: backend),
                    try gatedGEMVError(
                        .geluTanh, format: .q4_0, m: 3, n: 3, k: 96,
                        config: QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 4), activations: .int8, backend: backend),
                    try gatedGEMVError(
                        format: .q4_1, m: 2, n: 3, k: 160, config: QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 1),
                        activations: .int16, backend: backend),
                    try gatedGEMVError(
                        .geluTanh, format: .q4_K, m: 1, n: 2, k: 256,
                        config: QuantGEMVConfig(rowsPerItem: 1, lanesPerRow: 3), activations: .int16, backend: backend))
            })
        checks.append(
            // The gates' exp amplifies the rounding difference of the two dot products: 4× the tolerance.
            KernelSelfTest(
                "quant fused decode GEMV: RMSNorm prologue, residual and gated epilogues", file: dot, tolerance: 4e-5
            ) { backend in
                var worst: Float = 0
                for activations in GEMVActivations.allCases {
                    for (m, n, k, gate, lanes) in [
                        (1, 7, 160, nil, 1), (3, 5, 288, GatedActivation.silu, 1), (2, 3, 96, nil, 4),
                        (1, 2, 128, .geluTanh, 3),
                    ] as [(Int, Int, Int, GatedActivation?, Int)] {
                        worst = max(
                            worst,
                            try fusedGEMVError(
                                activations, m: m, n: n, k: k, gate: gate, lanes: lanes, backend: backend))
                    }
                }
                return worst
            })
        checks.append(
            KernelSelfTest("int8_matmul with outliers", file: "int8_matmul.cl") { backend in
                let matmul = try OpenCLInt8Matmul(backend: backend, vectorWidth: 4, outputsPerItem: 3, rowGroupSize: 4)
                return max(
                    try int8MatmulError(m: 3, n: 5, k: 37, threshold: 6, backend: backend, matmul: matmul),
                    try int8MatmulError(m: 2, n: 4, k: 20, threshold: 0, backend: backend, matmul: matmul))
            })
        checks.append(
            KernelSelfTest("quant_scale_columns (INT4 with input scale)", file: "quant_scale.cl") { backend in
                try quantizedMatmulError(
                    format: .int4(groupSize: 32), m: 2, n: 3, k: 64, path: .fused(skinny), inputScale: true,
                    backend: backend)
            })
        return checks
    }()
}

/// A [rows, columns] matrix in `format` for parity checks: random values quantized where Clinfer
/// has a quantizer for the format, random blocks otherwise (Q5_*, K-quants).
package func sampleQuantizedMatrix(
    format: QuantFormat, rows: Int, columns: Int, seed: UInt64, inputScale: [Float]? = nil
) throws -> QuantizedMatrix {
    if case .int4 = format {
    } else if ![QuantFormat.q8_0, .q4_0, .q4_1].contains(format) {
        guard inputScale == nil else {
            throw OpError.unsupportedType(op: "sampleQuantizedMatrix", detail: "no input scale for \(format)")
        }
        return try QuantizedMatrix.randomBlocks(format: format, rows: rows, columns: columns, seed: seed)
    }
    return try QuantizedMatrix(
        quantizing: SplitMix64.floats(rows * columns, seed: seed), rows: rows, columns: columns, format: format,
        inputScale: inputScale)
}

/// Runs x · Wᵀ with W quantized in `format` on the device and on the CPU (dequantize, then fp32
/// GEMM; or the int8-activation reference where the device path quantizes x) from the same random
/// inputs; returns the relative error of the device result.
package func quantizedMatmulError(
    format: QuantFormat, m: Int, n: Int, k: Int, path: OpenCLQuantizedMatmul.Path? = nil,
    inputScale: Bool = false, aType: ElementType = .float32, activations: GEMVActivations = .exact,
    backend: OpenCLBackend, matmul: OpenCLQuantizedMatmul? = nil, seed: UInt64 = 7
) throws -> Float {
    let scale = inputScale ? SplitMix64.floats(k, seed: seed + 3, in: 0.25...4) : nil
    let weights = try sampleQuantizedMatrix(format: format, rows: n, columns: k, seed: seed, inputScale: scale)
    let x = HostTensor(SplitMix64.floats(m * k, seed: seed + 1)).converted(to: aType)
    let matmul =
        matmul
        ?? OpenCLQuantizedMatmul(
            gemm: OpenCLGEMM(backend: backend, tuning: .builtInDefaults(for: backend.device)), activations: activations)
    let reference = HostTensor(zeros: m * n)
    let mode = matmul.activations(rows: m, format: format, path: path, inputScale: inputScale)
    try cpuQuantizedMatmul(mode, x: x, weights: weights, y: reference, rows: m)
    let y = try DeviceTensor(backend: backend, count: m * n)
    try matmul.encode(
        x: DeviceTensor(backend: backend, copying: x),
        weights: DeviceQuantizedMatrix(backend: backend, copying: weights),
        y: y, rows: m, path: path)
    return maxRelativeError(try y.download(backend.queue).floats, reference.floats)
}

/// The CPU reference of a quantized matmul whose x is read `activations`-wise: exact (dequantize,
/// then fp32 GEMM) or quantized to integers as the integer-dot GEMV does (4-bit weights).
private func cpuQuantizedMatmul(
    _ activations: GEMVActivations, x: HostTensor, weights: QuantizedMatrix, y: HostTensor, rows: Int
) throws {
    if let bits = activations.bits {
        try IntegerActivationMatmul(bits: bits).matmul(x: x, weights: weights, y: y, rows: rows)
    } else {
        try CPUQuantizedMatmul().matmul(x: x, weights: weights, y: y, rows: rows)
    }
}

/// Max relative error of the fused decode GEMV (`Kernels/quant_gemv_dot.cl`, Q4_1 weights) with
/// an RMSNorm prologue and, without a gate, a residual epilogue, against the CPU: the norm, then
/// the matmul in the same activation mode (x·weight quantized, the row's norm factor applied
/// after, as the kernel does), then the gate or the residual add.
package func fusedGEMVError(
    _ activations: GEMVActivations, m: Int, n: Int, k: Int, gate: GatedActivation?, lanes: Int,
    backend: OpenCLBackend, seed: UInt64 = 13
) throws -> Float {
    let weights = try sampleQuantizedMatrix(format: .q4_1, rows: gate == nil ? n : 2 * n, columns: k, seed: seed)
    let x = SplitMix64.floats(m * k, seed: seed + 1), normWeight = SplitMix64.floats(k, seed: seed + 2, in: 0.5...2)
    let residual = SplitMix64.floats(m * n, seed: seed + 3), eps: Float = 1e-5
    var weighted = x, factors: [Float] = []
    for row in 0..<m {
        let values = x[row * k..<(row + 1) * k]
        factors.append(1 / (values.reduce(0) { $0 + $1 * $1 } / Float(k) + eps).squareRoot())
        for column in 0..<k { weighted[row * k + column] *= normWeight[column] }
    }
    let projected = HostTensor(zeros: m * weights.rows)
    try cpuQuantizedMatmul(activations, x: HostTensor(weighted), weights: weights, y: projected, rows: m)
    var expected = projected.floats
    for row in 0..<m { for column in 0..<weights.rows { expected[row * weights.rows + column] *= factors[row] } }
    if let gate {
        let out = HostTensor(zeros: m * n)
        try CPUActivation().gated(gate, tokens: m, width: n, gateUp: HostTensor(expected), out: out)
        expected = out.floats
    } else {
        for index in expected.indices { expected[index] += residual[index] }
    }
    let matmul = OpenCLQuantizedMatmul(
        gemm: OpenCLGEMM(backend: backend, tuning: .builtInDefaults(for: backend.device)), activations: activations)
    let device = try DeviceQuantizedMatrix(backend: backend, copying: weights)
    let y = try DeviceTensor(
        backend: backend, copying: HostTensor(gate == nil ? residual : [Float](repeating: 0, count: m * n)))
    try matmul.encodeFused(
        x: DeviceTensor(backend: backend, copying: HostTensor(x)), weights: device, y: y, rows: m, gate: gate,
        fusion: GEMVFusion(
            norm: (try DeviceTensor(backend: backend, copying: HostTensor(normWeight)), eps), residual: gate == nil),
        config: QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: lanes))
    return maxRelativeError(try y.download(backend.queue).floats, expected)
}

/// Max relative error of the decode GEMV's gated epilogue (`-DGATED=1` SwiGLU, `2` GeGLU) over
/// stacked gate/up weights [2n, k] against the CPU fallback: dequantize-then-matmul, then the
/// activation.
package func gatedGEMVError(
    _ gate: GatedActivation = .silu, format: QuantFormat, m: Int, n: Int, k: Int, config: QuantGEMVConfig? = nil,
    activations: GEMVActivations = .exact, backend: OpenCLBackend, seed: UInt64 = 11
) throws -> Float {
    let weights = try sampleQuantizedMatrix(format: format, rows: 2 * n, columns: k, seed: seed)
    let x = HostTensor(SplitMix64.floats(m * k, seed: seed + 1))
    let matmul = OpenCLQuantizedMatmul(
        gemm: OpenCLGEMM(backend: backend, tuning: .builtInDefaults(for: backend.device)), activations: activations)
    let projected = HostTensor(zeros: m * 2 * n)
    let mode = matmul.activations(rows: m, format: format, path: config.map { .gemv($0) })
    try cpuQuantizedMatmul(mode, x: x, weights: weights, y: projected, rows: m)
    let reference = HostTensor(zeros: m * n)
    try CPUActivation().gated(gate, tokens: m, width: n, gateUp: projected, out: reference)
    let y = try DeviceTensor(backend: backend, count: m * n)
    guard
        try matmul.encodeGated(
            gate,
            x: DeviceTensor(backend: backend, copying: x),
            weights: DeviceQuantizedMatrix(backend: backend, copying: weights), y: y, rows: m, config: config) != nil
    else { throw OpError.invalidConfiguration(kernel: "quant_gemv", detail: "no fused SwiGLU for \(m) rows") }
    return maxRelativeError(try y.download(backend.queue).floats, reference.floats)
}

extension KernelSelfTest {
    static let softmaxChecks: [KernelSelfTest] = OpenCLSoftmax.Algorithm.allCases.flatMap { algorithm in
        [(false, false), (true, true), (true, false)].map { hasMask, perRow in
            KernelSelfTest(
                "softmax \(algorithm.rawValue)\(hasMask ? (perRow ? " mask[rows,n]" : " mask[n]") : "")",
                file: "softmax.cl"
            ) { backend in
                let softmax = try OpenCLSoftmax(backend: backend, algorithm: algorithm, workGroup: 4)
                return max(
                    try softmaxError(
                        SoftmaxProblem(rows: 3, n: 13, scale: 0.5), mask: hasMask, maskPerRow: perRow, softmax: softmax),
                    try softmaxError(SoftmaxProblem(rows: 2, n: 1), mask: hasMask, maskPerRow: perRow, softmax: softmax)
                )
            }
        }
    }
}

/// Softmax on the device and on the CPU from the same random logits (in ±`magnitude`), with an
/// optional mask blocking every third position (and all of row 0 when per-row); returns the
/// relative error of the device result.
package func softmaxError(
    _ problem: SoftmaxProblem, mask: Bool = false, maskPerRow: Bool = true, magnitude: Float = 4,
    softmax: OpenCLSoftmax, seed: UInt64 = 3
) throws -> Float {
    let backend = softmax.backend
    let x = HostTensor(SplitMix64.floats(problem.rows * problem.n, seed: seed, in: -magnitude...magnitude))
    var maskTensor: HostTensor?
    if mask {
        let count = maskPerRow ? problem.rows * problem.n : problem.n
        let values = (0..<count).map { index -> Float in
            if maskPerRow && index < problem.n { return -.infinity }  // row 0 fully blocked
            return index % 3 == 1 ? -.infinity : Float(index % 5) * 0.25
        }
        maskTensor = HostTensor(values)
    }
    let reference = HostTensor(zeros: problem.rows * problem.n)
    try CPUSoftmax().softmax(problem, x: x, mask: maskTensor, y: reference)
    let y = try DeviceTensor(backend: backend, count: problem.rows * problem.n)
    try softmax.softmax(
        problem, x: DeviceTensor(backend: backend, copying: x),
        mask: try maskTensor.map { try DeviceTensor(backend: backend, copying: $0) }, y: y)
    let result = try y.download(backend.queue).floats
    return result.allSatisfy(\.isFinite) ? maxRelativeError(result, reference.floats) : .infinity
}

/// Activations in [−1, 1] with a few outlier columns (values up to ±`magnitude` in every
/// `outlierEvery`-th column), like the transformer activations of the LLM.int8() paper.
package func activationsWithOutliers(
    rows: Int, columns: Int, outlierEvery: Int = 9, magnitude: Float = 20, seed: UInt64
) -> [Float] {
    var x = SplitMix64.floats(rows * columns, seed: seed)
    for row in 0..<rows {
        for column in stride(from: 3, to: columns, by: outlierEvery) { x[row * columns + column] *= magnitude }
    }
    return x
}

/// Runs LLM.int8() on the device and on the CPU from the same inputs; returns the relative
/// error of the device result against the CPU's.
package func int8MatmulError(
    m: Int, n: Int, k: Int, threshold: Float, backend: OpenCLBackend,
    matmul: OpenCLInt8Matmul? = nil, seed: UInt64 = 5
) throws -> Float {
    let weights = try Int8Matrix(quantizing: SplitMix64.floats(n * k, seed: seed), rows: n, columns: k)
    let x = HostTensor(activationsWithOutliers(rows: m, columns: k, seed: seed + 1))
    let reference = HostTensor(zeros: m * n)
    try CPUInt8Matmul().matmul(x: x, weights: weights, y: reference, rows: m, threshold: threshold)
    let y = try DeviceTensor(backend: backend, count: m * n)
    try (matmul ?? OpenCLInt8Matmul(backend: backend)).matmul(
        x: DeviceTensor(backend: backend, copying: x), weights: DeviceInt8Matrix(backend: backend, copying: weights),
        y: y,
        rows: m, threshold: threshold)
    return maxRelativeError(try y.download(backend.queue).floats, reference.floats)
}

/// Runs `problem` with `config` on the device and on the CPU from the same random inputs and
/// returns the relative error of the device result.
package func gemmError(
    _ problem: GEMMProblem, config: GEMMKernelConfig?, aType: ElementType = .float32,
    bType: ElementType = .float32, backend: OpenCLBackend, tuning: GEMMTuningTable? = nil,
    gemm: OpenCLGEMM? = nil, seed: UInt64 = 1
) throws -> Float {
    let a = HostTensor(SplitMix64.floats(problem.m * problem.k, seed: seed)).converted(to: aType)
    let b = HostTensor(SplitMix64.floats(problem.k * problem.n, seed: seed + 1)).converted(to: bType)
    let c = HostTensor(SplitMix64.floats(problem.m * problem.n, seed: seed + 2))
    let deviceC = try DeviceTensor(backend: backend, copying: c)
    try CPUGEMM().gemm(problem, a: a, b: b, c: c)
    let gemm =
        gemm ?? OpenCLGEMM(backend: backend, tuning: tuning ?? GEMMTuningTable.builtInDefaults(for: backend.device))
    try gemm.encode(
        problem, a: DeviceTensor(backend: backend, copying: a), b: DeviceTensor(backend: backend, copying: b),
        c: deviceC, config: config)
    return maxRelativeError(try deviceC.download(backend.queue).floats, c.floats)
}
