import ClinferOps
import OpenCLKit
import Testing

/// Kernels/quant_gemv.cl, quant_gemv_dot.cl, quant_scale.cl and gemm_dequantize.cl (with the
/// GEMM kernels reading quantized weights) against dequantize-then-fp32 on the CPU, or, where
/// the GEMV quantizes x to int8, against the CPU's int8-activation reference.
@Suite("Quantized matmul: OpenCL vs CPU (dequantize, then fp32 GEMM)")
struct QuantizedMatmulTests {
    /// Both sides use the same dequantized weights; only summation order differs.
    static let tolerance: Float = 1e-5
    static let formats: [QuantFormat] = QuantFormat.gguf + [.int4(groupSize: 128)]
    /// The formats Clinfer quantizes to (the others are tested on random blocks).
    static let quantizable: [QuantFormat] = [.q8_0, .q4_0, .q4_1, .int4(groupSize: 128)]

    /// K = 32·k with k odd (128·k for int4-g128, 256·k for K-quants), never a multiple of a
    /// work-group.
    static func oddK(_ format: QuantFormat) -> [Int] {
        format.columnMultiple > 32 ? [format.columnMultiple * 3] : [96, 160, 576, 1536]
    }

    @Test("planned path: M = 1, 3, 16, 17, 100; N = 1, 7, 33, 1000", arguments: formats)
    func parity(format: QuantFormat) throws {
        let backend = try TestDevice.opencl()
        let matmul = OpenCLQuantizedMatmul(
            gemm: OpenCLGEMM(backend: backend, tuning: .builtInDefaults(for: backend.device)))
        for k in Self.oddK(format) {
            for m in [1, 3, 16, 17, 100] {
                for n in m == 100 ? [1, 7, 33] : [1, 7, 33, 1000] {
                    let error = try quantizedMatmulError(
                        format: format, m: m, n: n, k: k, backend: backend, matmul: matmul)
                    #expect(error <= Self.tolerance, "\(format) \(m)x\(n)x\(k): relative error \(error)")
                }
            }
        }
    }

    @Test("both paths, fused and dequantize-then-GEMM, at small and large M", arguments: formats)
    func paths(format: QuantFormat) throws {
        let backend = try TestDevice.opencl()
        let k = Self.oddK(format)[0]
        var paths: [OpenCLQuantizedMatmul.Path] = [
            .dequantizeThenGEMM, .fused(.tiled(GEMMTileConfig(tm: 2, tn: 4, vw: 8, wgm: 8, wgn: 1))),
        ]
        paths += [
            .gemv(QuantGEMVConfig(rowsPerItem: 4, lanesPerRow: 1)),
            .gemv(QuantGEMVConfig(rowsPerItem: 3, lanesPerRow: 1)),
            .gemv(QuantGEMVConfig(rowsPerItem: 1, lanesPerRow: 32)),
            .gemv(QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 5)),
        ]
        for path in paths {
            for m in [1, 3, 9, 17, 40] {
                for activations in GEMVActivations.allCases {
                    let error = try quantizedMatmulError(
                        format: format, m: m, n: 33, k: k, path: path, activations: activations, backend: backend)
                    #expect(error <= Self.tolerance, "\(format) \(path) \(activations) m=\(m): relative error \(error)")
                }
            }
        }
        let matmul = OpenCLQuantizedMatmul(
            gemm: OpenCLGEMM(backend: backend, tuning: .builtInDefaults(for: backend.device)))
        #expect(matmul.plan(rows: 100, format: format) == .dequantizeThenGEMM)
        #expect(matmul.plan(rows: 16, format: format) == .gemv(.defaults(for: format, device: backend.device)))
    }

    @Test(
        "the decode GEMV's gated epilogues (SwiGLU, GeGLU) over stacked gate/up weights, odd shapes", arguments: formats
    )
    func gatedEpilogue(format: QuantFormat) throws {
        let backend = try TestDevice.opencl()
        let k = Self.oddK(format)[0]
        let configs: [QuantGEMVConfig?] = [
            nil, QuantGEMVConfig(rowsPerItem: 3, lanesPerRow: 1), QuantGEMVConfig(rowsPerItem: 2, lanesPerRow: 5),
        ]
        for config in configs {
            for (m, n) in [(1, 1), (1, 7), (1, 33), (3, 33), (9, 7), (16, 1000)] {
                let gate: GatedActivation = n % 2 == 0 ? .silu : .geluTanh
                let activations: GEMVActivations = format.deviceEncoding == .nibbles && m != 9 ? .int8 : .exact
                let error = try gatedGEMVError(
                    gate, format: format, m: m, n: n, k: k, config: config, activations: activations, backend: backend)
                // The gate's exp amplifies the rounding difference of the two dot products (the
                // single-row GEMV scales each block's dot once instead of every weight), and with
                // one output the error is relative to that one value: four times the matmul
                // tolerance.
                #expect(
                    error <= 4 * Self.tolerance, "\(format) \(String(describing: config)) \(m)x\(n)x\(k): \(error)")
            }
        }
        // Prefill-sized batches run the projection and the activation apart.
        let matmul = OpenCLQuantizedMatmul(
            gemm: OpenCLGEMM(backend: backend, tuning: .builtInDefaults(for: backend.device)))
        let weights = try DeviceQuantizedMatrix(
            backend: backend,
            copying: sampleQuantizedMatrix(format: format, rows: 4, columns: k, seed: 1))
        #expect(
            try matmul.encodeGated(
                x: DeviceTensor(backend: backend, count: 17 * k), weights: weights,
                y: DeviceTensor(backend: backend, count: 17 * 2), rows: 17) == nil)
    }

    @Test("fp16 activations and a folded input scale (AWQ)")
    func halfActivationsAndInputScale() throws {
        let backend = try TestDevice.opencl()
        for format in Self.quantizable {
            for m in [1, 3, 40] {
                let k = Self.oddK(format)[0]
                let error = try quantizedMatmulError(
                    format: format, m: m, n: 33, k: k, inputScale: true, aType: .float16, backend: backend)
                #expect(error <= Self.tolerance, "\(format) m=\(m): relative error \(error)")
                // Without an input scale the GEMV reads the fp16 activations itself (A_HALF).
                for activations in GEMVActivations.allCases {
                    let half = try quantizedMatmulError(
                        format: format, m: m, n: 33, k: k, aType: .float16, activations: activations, backend: backend)
                    #expect(half <= Self.tolerance, "\(format) m=\(m) fp16 x \(activations): relative error \(half)")
                }
            }
        }
    }

    @Test("the device read-back equals the host dequantization", arguments: quantizable)
    func deviceDequantize(format: QuantFormat) throws {
        let backend = try TestDevice.opencl()
        let k = Self.oddK(format)[0]
        let matrix = try QuantizedMatrix(
            quantizing: SplitMix64.floats(9 * k, seed: 3), rows: 9, columns: k, format: format)
        let device = try DeviceQuantizedMatrix(backend: backend, copying: matrix).dequantized(backend)
        #expect(maxRelativeError(device, matrix.dequantized()) <= 1e-6)
        let scaled = try QuantizedMatrix(
            quantizing: SplitMix64.floats(9 * k, seed: 4), rows: 9, columns: k, format: format,
            inputScale: SplitMix64.floats(k, seed: 5, in: 0.5...2))
        #expect(
            maxRelativeError(
                try DeviceQuantizedMatrix(backend: backend, copying: scaled).dequantized(backend), scaled.dequantized())
                <= 1e-6)
    }

    @Test("the input scale reduces int4 error on weights with outlier input channels")
    func inputScaleHelps() throws {
        // Columns 0..<8 of W are 20× larger: group scales follow them and crush the rest.
        let (n, k) = (16, 128)
        var weights = SplitMix64.floats(n * k, seed: 21)
        for row in 0..<n { for column in 0..<8 { weights[row * k + column] *= 20 } }
        let x = SplitMix64.floats(k, seed: 22)
        let exact = (0..<n).map { row in (0..<k).reduce(Float(0)) { $0 + x[$1] * weights[row * k + $1] } }
        let scale = (0..<k).map { $0 < 8 ? Float(1.0 / 20) : 1 }
        func error(_ inputScale: [Float]?) throws -> Float {
            let matrix = try QuantizedMatrix(
                quantizing: weights, rows: n, columns: k, format: .int4(groupSize: 128), inputScale: inputScale)
            let y = HostTensor(zeros: n)
            try CPUQuantizedMatmul().matmul(x: HostTensor(x), weights: matrix, y: y, rows: 1)
            return maxRelativeError(y.floats, exact)
        }
        let plain = try error(nil), scaled = try error(scale)
        #expect(scaled * 2 < plain, "input scale: \(scaled), without: \(plain)")
    }

    @Test("bad operands throw typed errors")
    func badOperands() throws {
        let backend = try TestDevice.opencl()
        let matmul = OpenCLQuantizedMatmul(gemm: OpenCLGEMM(backend: backend))
        let weights = try DeviceQuantizedMatrix(
            backend: backend,
            copying: QuantizedMatrix(
                quantizing: SplitMix64.floats(4 * 64, seed: 1), rows: 4, columns: 64, format: .q4_1))
        #expect(throws: OpError.self) {
            try matmul.matmul(
                x: DeviceTensor(backend: backend, count: 63), weights: weights,
                y: DeviceTensor(backend: backend, count: 4), rows: 1)
        }
        #expect(throws: OpError.self) {
            try matmul.matmul(
                x: DeviceTensor(backend: backend, count: 64), weights: weights,
                y: DeviceTensor(backend: backend, count: 5), rows: 1)
        }
        #expect(throws: OpError.self) {
            try matmul.matmul(
                x: DeviceTensor(backend: backend, count: 64), weights: weights,
                y: DeviceTensor(backend: backend, count: 4, type: .float16), rows: 1)
        }
        #expect(throws: OpError.self) {
            try matmul.encode(
                x: DeviceTensor(backend: backend, count: 64), weights: weights,
                y: DeviceTensor(backend: backend, count: 4), rows: 1, path: .fused(.direct))
        }
        #expect(throws: OpError.self) {
            try matmul.matmul(
                x: DeviceTensor(backend: backend, count: 64), weights: weights,
                y: DeviceTensor(backend: backend, count: 4), rows: 0)
        }
        #expect(throws: OpError.self) {
            try matmul.encode(
                x: DeviceTensor(backend: backend, count: 64), weights: weights,
                y: DeviceTensor(backend: backend, count: 4),
                rows: 1, path: .gemv(QuantGEMVConfig(rowsPerItem: 1, lanesPerRow: backend.device.maxWorkGroupSize + 1)))
        }
        // The fused GEMV: a norm weight of the wrong size or type, a residual epilogue writing its
        // own input, weights it does not read (Q8_0), too many rows.
        let x = try DeviceTensor(backend: backend, count: 64), y = try DeviceTensor(backend: backend, count: 4)
        let norm = try DeviceTensor(backend: backend, count: 64)
        #expect(throws: OpError.self) {
            try matmul.encodeFused(
                x: x, weights: weights, y: y, rows: 1,
                fusion: GEMVFusion(norm: (try DeviceTensor(backend: backend, count: 63), 1e-5)))
        }
        #expect(throws: OpError.self) {
            try matmul.encodeFused(
                x: x, weights: weights, y: y, rows: 1,
                fusion: GEMVFusion(norm: (try DeviceTensor(backend: backend, count: 64, type: .float16), 1e-5)))
        }
        let square = try DeviceQuantizedMatrix(
            backend: backend,
            copying: QuantizedMatrix(
                quantizing: SplitMix64.floats(64 * 64, seed: 2), rows: 64, columns: 64, format: .q4_1))
        #expect(throws: OpError.self) {
            try matmul.encodeFused(x: norm, weights: square, y: norm, rows: 1, fusion: GEMVFusion(residual: true))
        }
        let bytes = try DeviceQuantizedMatrix(
            backend: backend,
            copying: QuantizedMatrix(
                quantizing: SplitMix64.floats(4 * 64, seed: 3), rows: 4, columns: 64, format: .q8_0))
        #expect(!matmul.fusible(bytes, rows: 1))
        #expect(throws: OpError.self) {
            try matmul.encodeFused(x: x, weights: bytes, y: y, rows: 1, fusion: GEMVFusion(norm: (norm, 1e-5)))
        }
        #expect(throws: OpError.self) {
            try matmul.encodeFused(
                x: DeviceTensor(backend: backend, count: 17 * 64), weights: weights,
                y: DeviceTensor(backend: backend, count: 17 * 4), rows: 17, fusion: GEMVFusion(residual: true))
        }
        #expect(matmul.fuses(weights, rows: 1) && !matmul.fuses(weights, rows: 2))
    }
}

extension QuantFormat: CustomTestStringConvertible {
    public var testDescription: String { description }
}
