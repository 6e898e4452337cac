import ArgumentParser
import ClinferOps
import Foundation
import OpenCLKit

/// `clinfer bench gemm`: sweeps kernel configurations over shapes (CSV + SVG heatmap), or with
/// `--compare` measures the tuned GEMM against CLBlast and OpenBLAS in the same run.
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Measure GEMM GFLOPS per kernel configuration and shape, or against CLBlast/OpenBLAS.",
        discussion: """
            Without --compare: every configuration of the tuner's grid (and the tuned one) on every shape and \
            layout, each verified against the CPU GEMM; writes gemm-sweep.csv and gemm-sweep.svg to --output.
            With --compare clblast,openblas: the tuned GEMM next to the peers, wall-clock medians, ratios; \
            skinny shapes also report weight bytes/s against the device's measured read bandwidth.
            Shapes are MxNxK; layout nn has B stored [K, N], nt has B stored [N, K] (weights).
            """)

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(
        help:
            "Comma-separated MxNxK shapes (default: 256³, 512³, 1024³, 2048³, 1×4096×4096, 8×4096×4096, 128×4096×4096, 512×4096×4096)."
    )
    var shapes: String?

    @Option(help: "B layout: nn ([K, N]), nt ([N, K], weights) or both.")
    var layout: LayoutChoice = .both

    @Option(help: "Comma-separated peers to compare against: clblast, openblas.")
    var compare: String?

    @Option(
        name: .customLong("config"),
        help:
            "Sweep only this configuration (repeatable), in the form the sweep prints, e.g. \"tiled tm8 tn2 vw16 wg8x1\"."
    )
    var configs: [String] = []

    @Option(help: "Timed runs per measurement; the median is reported.")
    var repetitions = 5

    @Option(help: "Directory for the sweep's CSV and SVG.")
    var output = "bench-out"

    @Flag(help: "Print one JSON object per line instead of a table.")
    var json = false

    @Flag(help: "Skip checking results against the CPU GEMM.")
    var noVerify = false

    func run() throws {
        let backend = try deviceOptions.backend()
        let gemm = OpenCLGEMM(backend: backend, onWarning: { progress("warning: \($0)") })
        let timer = GEMMTimer(gemm: gemm, repetitions: repetitions)
        let shapes = try shapes.map(GEMMShape.list) ?? GEMMShape.defaults
        progress("device: \(backend.device)")
        if let compare {
            let peers = try compare.split(separator: ",").map { name in
                guard let peer = Peer(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                    throw ValidationError(
                        "unknown peer '\(name)'; choose from \(Peer.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return peer
            }
            try runComparison(peers: peers, shapes: shapes, timer: timer)
        } else {
            try runSweep(shapes: shapes, timer: timer)
        }
    }

    // MARK: Sweep

    private func runSweep(shapes: [GEMMShape], timer: GEMMTimer) throws {
        let device = timer.gemm.backend.device
        var jobs: [(GEMMProblem, GEMMKernelConfig)] = []
        for shape in shapes {
            for transposedB in layout.transposedB {
                let problem = shape.problem(transposedB: transposedB)
                let shapeClass = GEMMShapeClass(problem)
                var candidates = try configs.map { text in
                    guard let config = GEMMKernelConfig(parsing: text) else {
                        throw ValidationError("cannot parse configuration '\(text)'")
                    }
                    return config
                }
                if candidates.isEmpty {
                    candidates = [timer.gemm.plan(for: problem)]
                    for config in GEMMSearchSpace(shapeClass: shapeClass, randomSamples: 0).candidates(for: device)
                    where !candidates.contains(config) {
                        candidates.append(config)
                    }
                }
                jobs += candidates.map { (problem, $0) }
            }
        }
        var rows: [SweepRow] = []
        var workloads: [GEMMProblem: GEMMTimer.Workload] = [:]
        for (index, (problem, config)) in jobs.enumerated() {
            let workload = try workloads[problem] ?? timer.workload(problem, verify: !noVerify)
            workloads = [problem: workload]  // keep one problem's buffers alive at a time
            let label = "[\(index + 1)/\(jobs.count)] \(problem.shapeText) \(layoutName(problem.transposeB)) \(config)"
            do {
                let measurement = try timer.measure(config, on: workload)
                rows.append(SweepRow(problem: problem, config: config, measurement: measurement, failure: nil))
                progress("\(label): \(format(measurement.gflops)) GFLOPS")
            } catch {
                rows.append(SweepRow(problem: problem, config: config, measurement: nil, failure: "\(error)"))
                progress("\(label): rejected: \(error)")
            }
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let csvPath = "\(output)/gemm-sweep.csv", svgPath = "\(output)/gemm-sweep.svg"
        try SweepRow.csv(rows).write(toFile: csvPath, atomically: true, encoding: .utf8)
        try Heatmap(rows: rows, title: "GEMM GFLOPS on \(device.name)").svg().write(
            toFile: svgPath, atomically: true, encoding: .utf8)
        printSweepSummary(rows)
        progress("wrote \(csvPath) and \(svgPath)")
    }

    private func printSweepSummary(_ rows: [SweepRow]) {
        var seen = Set<GEMMProblem>()
        for row in rows where seen.insert(row.problem).inserted {
            let candidates = rows.filter { $0.problem == row.problem }
            let best = candidates.compactMap(\.measurement).max { $0.gflops < $1.gflops }
            let planned = candidates.first?.measurement
            if json {
                print(
                    jsonLine([
                        "shape": .string(row.problem.shapeText), "layout": .string(layoutName(row.problem.transposeB)),
                        "config": .string(planned.map { "\($0.config)" } ?? "failed"),
                        "gflops": .number(planned?.gflops),
                        "best_config": .string(best.map { "\($0.config)" } ?? "none"),
                        "best_gflops": .number(best?.gflops),
                    ]))
            } else {
                print(
                    "\(pad(row.problem.shapeText, 16)) \(layoutName(row.problem.transposeB))  planned \(pad(format(planned?.gflops ?? 0), 7, right: true)) GFLOPS"
                        + "  best \(pad(format(best?.gflops ?? 0), 7, right: true)) GFLOPS (\(best.map { "\($0.config)" } ?? "none"))"
                )
            }
        }
    }

    // MARK: Comparison

    private func runComparison(peers: [Peer], shapes: [GEMMShape], timer: GEMMTimer) throws {
        let backend = timer.gemm.backend
        for peer in peers where !peer.isAvailable {
            progress("note: \(peer.rawValue) is not installed (\(peer.installHint)); its columns stay empty")
        }
        progress("measuring the device's read bandwidth…")
        let bandwidth = try BandwidthProbe(backend: backend).readBytesPerSecond()
        progress("read bandwidth: \(format(bandwidth / 1e9)) GB/s")
        if !json {
            print(
                "timing: wall-clock median of \(repetitions) runs after a warm-up, same device buffers for Clinfer and CLBlast"
            )
            print(
                [pad("shape", 16), "layout", pad("config", 34), pad("clinfer", 9, right: true)].joined(separator: " ")
                    + peers.map { " " + pad($0.rawValue, 9, right: true) + " " + pad("ratio", 6, right: true) }.joined()
                    + "   weights GB/s (× bandwidth)")
        }
        for shape in shapes {
            for transposedB in layout.transposedB {
                let problem = shape.problem(transposedB: transposedB)
                progress("\(problem.shapeText) \(layoutName(transposedB))…")
                let workload = try timer.workload(problem, verify: !noVerify)
                let ours = try timer.measure(on: workload)  // verifies against the CPU reference
                let (a, b, c) = workload.deviceOperands
                try backend.queue.finish()
                let seconds = try medianWallSeconds(repetitions: repetitions) {
                    try timer.gemm.encode(problem, a: a, b: b, c: c).wait()
                }
                let gflops = problem.flops / seconds / 1e9
                var peerGflops: [Peer: Double] = [:]
                for peer in peers where peer.isAvailable {
                    let result = try peer.measure(workload, backend: backend, repetitions: repetitions)
                    peerGflops[peer] = problem.flops / result.seconds / 1e9
                    if let error = result.error, error > 1e-3 {
                        progress("warning: \(peer.rawValue) differs from the CPU reference by \(error)")
                    }
                }
                let weightRate = Double(problem.n * problem.k * 4) / seconds
                let skinny = problem.m <= GEMMShapeClass.skinnyMaxM
                if json {
                    var fields: [String: JSONField] = [
                        "shape": .string(problem.shapeText), "layout": .string(layoutName(transposedB)),
                        "config": .string("\(ours.config)"), "gflops": .number(gflops),
                        "device_bandwidth_gbps": .number(bandwidth / 1e9),
                    ]
                    for peer in Peer.allCases {
                        fields["\(peer.rawValue)_gflops"] = .number(peerGflops[peer])
                        fields["ratio_\(peer.rawValue)"] = .number(peerGflops[peer].map { gflops / $0 })
                    }
                    if skinny {
                        fields["weights_gbps"] = .number(weightRate / 1e9)
                        fields["bandwidth_ratio"] = .number(weightRate / bandwidth)
                    }
                    print(jsonLine(fields))
                } else {
                    var line = [
                        pad(problem.shapeText, 16), pad(layoutName(transposedB), 6), pad("\(ours.config)", 34),
                        pad(format(gflops), 9, right: true),
                    ].joined(separator: " ")
                    for peer in peers {
                        let value = peerGflops[peer]
                        line += " " + pad(value.map { format($0) } ?? "—", 9, right: true)
                        line += " " + pad(value.map { format(gflops / $0, 2) + "×" } ?? "—", 6, right: true)
                    }
                    if skinny { line += "   \(format(weightRate / 1e9)) (\(format(weightRate / bandwidth, 2))×)" }
                    print(line)
                }
            }
        }
    }
}

extension GEMMProblem {
    var shapeText: String { "\(m)x\(n)x\(k)" }
}
