import ArgumentParser
import ClinferOps
import OpenCLKit

/// `clinfer tune attention`: finds the fastest fused-attention tiles per head dimension and adds
/// them to the device's tuning file, which every later attention on that device uses.
struct TuneAttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Tune the fused attention kernel's tiles (BQ, BK) per head dimension and save them.",
        discussion: """
            Tries BQ 1, 2, 4 × BK 16, 32, 64, 128 per head dimension on a causal prefill of --seq tokens \
            (--heads over --kv-heads), each checked against the CPU first, and keeps the lowest device-time \
            median. The tiles join the device's GEMM tuning file under $CLINFER_CACHE_DIR (default \
            ~/.cache/clinfer)/tuning.
            """)

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: "Comma-separated head dimensions (multiples of 8 up to 256).") var headDims = "64,80,128"
    @Option(help: "Sequence length of the timed problem.") var seq = 1024
    @Option(help: "Query heads.") var heads = 9
    @Option(help: "KV heads.") var kvHeads = 3
    @Option(help: "Timed runs per candidate.") var repetitions = 3
    @Flag(help: "Print the result without saving it.") var dryRun = false

    func run() throws {
        let backend = try deviceOptions.backend()
        let dims = try headDims.split(separator: ",").map { text -> Int in
            guard let value = Int(text), value >= 8, value % 8 == 0, value <= AttentionProblem.maxHeadDim else {
                throw ValidationError(
                    "'\(text)' is not a head dimension (a multiple of 8 up to \(AttentionProblem.maxHeadDim))")
            }
            return value
        }
        let store = GEMMTuningStore()
        let base = store.resolve(for: backend.device)
        if let warning = base.warning { progress("warning: \(warning)") }
        progress("tuning attention on \(backend.device) …")
        let tuner = AttentionTuner(backend: backend, seq: seq, heads: heads, kvHeads: kvHeads, repetitions: repetitions)
        let table = try tuner.tune(headDims: dims, base: base.table) { step in
            let result: String
            switch step.outcome {
            case .success(let seconds): result = String(format: "%.2f ms", seconds * 1e3)
            case .failure(let error): result = "rejected (\(String("\(error)".prefix(120))))"
            }
            progress("[d \(step.headDim) \(step.index)/\(step.total)] \(step.tiles): \(result)")
        }
        for dim in dims {
            print(
                "d \(pad(String(dim), 4)) \(table.attentionTiles(headDim: dim)) (built-in \(AttentionTiles.builtIn(headDim: dim)))"
            )
        }
        if dryRun { return }
        try store.save(table, for: backend.device)
        print("saved \(store.url(for: backend.device).path)")
    }
}
