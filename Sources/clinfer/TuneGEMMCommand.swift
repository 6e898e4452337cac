import ArgumentParser
import ClinferOps
import OpenCLKit

/// `clinfer tune gemm`: searches kernel configurations per shape class and writes the best to
/// the device's tuning file, which every later GEMM on that device uses.
struct TuneGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Tune GEMM kernel parameters for this device and save them.",
        discussion: """
            Per shape class (nn/nt × skinny/large) tries a grid plus random samples on two representative \
            shapes, verifies each against the CPU GEMM, times the median of --repetitions runs and keeps the \
            best geometric mean of GFLOPS. The table is written to \
            the per-device tuning file under $CLINFER_CACHE_DIR (default ~/.cache/clinfer)/tuning.
            """)

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Comma-separated shape classes to tune: nn.skinny, nn.large, nt.skinny, nt.large (default: all).")
    var classes: String?

    @Option(help: "Random configurations per class on top of the grid.")
    var samples = 12

    @Option(help: "Timed runs per configuration.")
    var repetitions = 5

    @Flag(help: "Print the table without saving it.")
    var dryRun = false

    func run() throws {
        let backend = try deviceOptions.backend()
        let store = GEMMTuningStore()
        let shapeClasses =
            try classes.map { text in
                try text.split(separator: ",").map { name in
                    guard let shapeClass = GEMMShapeClass(rawValue: String(name)) else {
                        throw ValidationError(
                            "unknown class '\(name)'; choose from \(GEMMShapeClass.allCases.map(\.rawValue).joined(separator: ", "))"
                        )
                    }
                    return shapeClass
                }
            } ?? GEMMShapeClass.allCases
        let base = store.resolve(for: backend.device)
        if let warning = base.warning { progress("warning: \(warning)") }
        let gemm = OpenCLGEMM(backend: backend, tuning: base.table)
        progress("tuning GEMM on \(backend.device) …")
        let tuner = GEMMTuner(timer: GEMMTimer(gemm: gemm, repetitions: repetitions), randomSamples: samples)
        let table = try tuner.tune(shapeClasses, base: base.table) { step in
            let result: String
            switch step.outcome {
            case .success(let measurements):
                result =
                    measurements.map { "\($0.problem.shapeText) \(format($0.gflops))" }.joined(separator: ", ")
                    + " → \(format(step.gflops ?? 0)) GFLOPS (geometric mean)"
            case .failure(let error): result = "rejected (\(String("\(error)".prefix(120))))"
            }
            progress("[\(step.shapeClass.rawValue) \(step.index)/\(step.total)] \(step.config): \(result)")
        }
        for shapeClass in shapeClasses {
            guard let entry = table.entries[shapeClass] else { continue }
            print(
                "\(pad(shapeClass.rawValue, 10)) \(pad("\(entry.config)", 36)) \(entry.gflops.map { format($0) + " GFLOPS" } ?? "default") on \(entry.shape ?? "-")"
            )
        }
        if dryRun { return }
        try store.save(table, for: backend.device)
        print("saved \(store.url(for: backend.device).path)")
    }
}
