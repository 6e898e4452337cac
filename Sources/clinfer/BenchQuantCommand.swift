import ArgumentParser
import ClinferOps
import Foundation
import OpenCLKit

/// `clinfer bench quant`: quantized matmul in every format next to the device's bandwidth and
/// the fp32 GEMM on the same shapes, in one run.
struct BenchQuantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quant",
        abstract:
            "Measure quantized matmul (every GGUF quant format, INT4-g128, LLM.int8) against bandwidth and fp32 GEMM.",
        discussion: """
            For each MxNxK shape (x [M, K] times weights [N, K]): wall-clock median time, GFLOPS, weight bytes \
            read per second and its ratio to the device bandwidth (clpeak's if installed, else Clinfer's read \
            probe), and the speed-up over the fp32 GEMM on the same shape. Results are checked against the CPU.
            """)

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Comma-separated MxNxK shapes.")
    var shapes = "1x4096x4096,1x11008x4096,8x4096x4096,128x4096x4096"

    @Option(help: "Timed runs per measurement; the median is reported.")
    var repetitions = 7

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @Option(
        help:
            "Comma-separated activation modes for 4-bit weights (exact, int16, int8); rows of the integer modes are named Q4_1·x16, Q4_1·x8."
    )
    var activations = "exact,int16,int8"

    enum WeightKind {
        case fp32, quantized(QuantFormat, GEMVActivations), int8

        /// Every kind, the 4-bit formats once per activation mode in `modes`.
        static func all(modes: [GEMVActivations]) -> [WeightKind] {
            var kinds: [WeightKind] = [.fp32]
            for format in QuantFormat.gguf + [.int4(groupSize: 128)] {
                let integer = format.deviceEncoding == .nibbles && format.groupSize == 32
                for mode in integer ? modes : [.exact] { kinds.append(.quantized(format, mode)) }
            }
            return kinds + [.int8]
        }

        var name: String {
            switch self {
            case .fp32: "F32"
            case .quantized(let format, let mode): "\(format)" + (mode.bits.map { "·x\($0)" } ?? "")
            case .int8: "LLM.int8"
            }
        }
    }

    func run() throws {
        let backend = try deviceOptions.backend()
        let gemm = OpenCLGEMM(backend: backend, onWarning: { progress("warning: \($0)") })
        let modes = try activations.split(separator: ",").map { name in
            guard let mode = GEMVActivations(rawValue: String(name)) else {
                throw ValidationError("unknown activation mode \(name): exact, int16 or int8")
            }
            return mode
        }
        let int8 = try OpenCLInt8Matmul(backend: backend)
        let bandwidth = try DeviceBandwidth.measure(backend)
        if !json {
            print(
                "device \(backend.device.name); bandwidth \(format(bandwidth.reference / 1e9)) GB/s (\(bandwidth.source))"
                    + (bandwidth.clpeak != nil ? "; Clinfer probe \(format(bandwidth.probe / 1e9)) GB/s" : ""))
            print("timing: wall-clock median of \(repetitions) runs after a warm-up")
            print(
                [
                    pad("shape", 16), pad("format", 10), pad("ms", 9, right: true), pad("GFLOPS", 8, right: true),
                    pad("weights GB/s", 13, right: true), pad("× bw", 6, right: true), pad("× F32", 7, right: true),
                    "  rel. error",
                ].joined(separator: " "))
        }
        for shape in try GEMMShape.list(shapes) {
            let (m, n, k) = (shape.m, shape.n, shape.k)
            progress("\(shape)…")
            let weights = SplitMix64.floats(n * k, seed: 1)
            let hostX = HostTensor(SplitMix64.floats(m * k, seed: 2))
            let x = try DeviceTensor(backend: backend, copying: hostX)
            let y = try DeviceTensor(backend: backend, count: m * n)
            var fp32Seconds: Double?
            for kind in WeightKind.all(modes: modes) {
                // A format whose blocks do not divide K (K-quants need K % 256 == 0) has no row here.
                if case .quantized(let format, _) = kind, k % format.columnMultiple != 0 {
                    if !json {
                        print(
                            "\(pad("\(shape)", 16)) \(pad(kind.name, 10)) n/a: K is not a multiple of \(format.columnMultiple)"
                        )
                    }
                    continue
                }
                let run: () throws -> Void, bytes: Int, reference: HostTensor = HostTensor(zeros: m * n)
                switch kind {
                case .fp32:
                    let b = try DeviceTensor(backend: backend, copying: HostTensor(weights))
                    let problem = GEMMProblem(m: m, n: n, k: k, transposeB: true)
                    run = { try gemm.encode(problem, a: x, b: b, c: y).wait() }
                    bytes = n * k * 4
                    try CPUGEMM().gemm(problem, a: hostX, b: HostTensor(weights), c: reference)
                case .quantized(let quantFormat, let mode):
                    let quantized = OpenCLQuantizedMatmul(gemm: gemm, activations: mode)
                    // Formats Clinfer does not quantize to (Q5_*, K-quants) get random blocks.
                    let matrix =
                        try (try? QuantizedMatrix(quantizing: weights, rows: n, columns: k, format: quantFormat))
                        ?? QuantizedMatrix.randomBlocks(format: quantFormat, rows: n, columns: k, seed: 1)
                    let device = try DeviceQuantizedMatrix(backend: backend, copying: matrix)
                    run = { try quantized.encode(x: x, weights: device, y: y, rows: m).wait() }
                    bytes = quantFormat.storageBytes(rows: n, columns: k)
                    try CPUQuantizedMatmul().matmul(x: hostX, weights: matrix, y: reference, rows: m)
                case .int8:
                    let matrix = try Int8Matrix(quantizing: weights, rows: n, columns: k)
                    let device = try DeviceInt8Matrix(backend: backend, copying: matrix)
                    run = {
                        try int8.matmul(x: x, weights: device, y: y, rows: m); try backend.queue.finish()
                    }
                    bytes = n * k + n * 4
                    try CPUInt8Matmul().matmul(x: hostX, weights: matrix, y: reference, rows: m)
                }
                try backend.queue.finish()
                let seconds = try medianWallSeconds(repetitions: repetitions, run)
                let error = maxRelativeError(try y.download(backend.queue).floats, reference.floats)
                if case .fp32 = kind { fp32Seconds = seconds }
                let gflops = 2 * Double(m * n * k) / seconds / 1e9, rate = Double(bytes) / seconds
                let speedup = fp32Seconds.map { $0 / seconds } ?? 1
                if json {
                    print(
                        jsonLine([
                            "shape": .string("\(shape)"), "format": .string(kind.name), "ms": .number(seconds * 1e3),
                            "gflops": .number(gflops), "weights_gbps": .number(rate / 1e9),
                            "bandwidth_gbps": .number(bandwidth.reference / 1e9),
                            "bandwidth_ratio": .number(rate / bandwidth.reference), "speedup_vs_f32": .number(speedup),
                            "relative_error": .number(Double(error)),
                        ]))
                } else {
                    print(
                        [
                            pad("\(shape)", 16), pad(kind.name, 10),
                            pad(String(format: "%.3f", seconds * 1e3), 9, right: true),
                            pad(format(gflops), 8, right: true), pad(format(rate / 1e9), 13, right: true),
                            pad(format(rate / bandwidth.reference, 2), 6, right: true),
                            pad(format(speedup, 2), 7, right: true),
                            "  " + String(format: "%.1e", error),
                        ].joined(separator: " "))
                }
            }
        }
    }
}
