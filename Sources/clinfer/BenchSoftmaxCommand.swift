import ArgumentParser
import ClinferOps
import Foundation
import OpenCLKit

/// `clinfer bench softmax`: the two-pass softmax against the classic three-pass one, same run.
struct BenchSoftmaxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softmax",
        abstract: "Compare two-pass and three-pass softmax kernels on large rows.",
        discussion:
            "Shapes are ROWSxN. Reports device-time medians, the element rate and the ratio; results are checked against the CPU."
    )

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Comma-separated ROWSxN shapes.")
    var shapes = "16x262144,256x16384,4096x1024"

    @Option(help: "Work-items per row (a power of two).")
    var workGroup = 64

    @Option(help: "Timed runs per measurement; the median is reported.")
    var repetitions = 9

    func run() throws {
        let backend = try deviceOptions.backend()
        let bandwidth = try BandwidthProbe(backend: backend).readBytesPerSecond()
        print(
            "device \(backend.device.name); read bandwidth \(format(bandwidth / 1e9)) GB/s (Clinfer probe); device-time medians of \(repetitions)"
        )
        print(
            [
                pad("shape", 14), pad("three-pass ms", 14, right: true), pad("two-pass ms", 12, right: true),
                pad("two-pass GB/s", 14, right: true), pad("speed-up", 9, right: true),
            ].joined(separator: " "))
        for text in shapes.split(separator: ",") {
            let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("'\(text)' is not ROWSxN")
            }
            let problem = SoftmaxProblem(rows: parts[0], n: parts[1], scale: 0.125)
            let host = HostTensor(SplitMix64.floats(problem.rows * problem.n, seed: 4, in: -8...8))
            let x = try DeviceTensor(backend: backend, copying: host),
                y = try DeviceTensor(backend: backend, count: problem.rows * problem.n)
            let reference = HostTensor(zeros: problem.rows * problem.n)
            try CPUSoftmax().softmax(problem, x: host, mask: nil, y: reference)
            var seconds: [OpenCLSoftmax.Algorithm: Double] = [:]
            for algorithm in OpenCLSoftmax.Algorithm.allCases {
                let softmax = try OpenCLSoftmax(backend: backend, algorithm: algorithm, workGroup: workGroup)
                try softmax.encode(problem, x: x, mask: nil, y: y).wait()
                let error = maxRelativeError(try y.download(backend.queue).floats, reference.floats)
                if error > 1e-5 { progress("warning: \(algorithm.rawValue) differs from the CPU by \(error)") }
                seconds[algorithm] = median(
                    try (0..<repetitions).map { _ in try softmax.encode(problem, x: x, mask: nil, y: y).deviceSeconds()
                    })
            }
            let two = seconds[.twoPass]!, three = seconds[.threePass]!
            let bytes = Double(problem.rows * problem.n * 4 * 3)  // two reads and one write
            print(
                [
                    pad(String(text), 14), pad(String(format: "%.3f", three * 1e3), 14, right: true),
                    pad(String(format: "%.3f", two * 1e3), 12, right: true),
                    pad(format(bytes / two / 1e9), 14, right: true),
                    pad(format(three / two, 2) + "×", 9, right: true),
                ].joined(separator: " "))
        }
    }
}
