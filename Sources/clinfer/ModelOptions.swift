import ArgumentParser
import ClinferEngine
import ClinferOps
import Foundation

/// `--model`, `--device`, `--context` and `--activations`: which model a command loads and how it runs.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "GGUF model file (default: the fetched SmolLM2-135M-Instruct; `make model` fetches it).")
    var model: String = ModelOptions.defaultModel

    @Option(
        name: .long,
        help:
            "Where the model runs: auto (OpenCL when a device exists), opencl or cpu; the OpenCL device is $CLINFER_DEVICE."
    )
    var device: ComputeTarget.Preference = .fromEnvironment

    @Option(name: .long, help: "Positions per sequence (prompt + generated); default min(model's, 4096).")
    var context: Int?

    @Option(
        name: .long,
        help: "How decode matmuls over 4-bit weights read activations on OpenCL: int8 (integer dots) or exact.")
    var activations: GEMVActivations = .default

    static let defaultModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// Loads the model with `slots` concurrent sequences, drawing a progress bar on standard error.
    /// Benchmarks turn the prompt cache off: they run one prompt again and again.
    func load(slots: Int = 1, promptCache: Bool = true) throws -> LanguageModel {
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError(
                "no model at \(model); run `make model` (or scripts/fetch-models.sh) to fetch the default one")
        }
        let bar = ProgressBar(label: "loading \((model as NSString).lastPathComponent)")
        let loaded = try LanguageModel(
            path: model,
            options: .init(
                backend: device, contextLength: context, slots: slots, promptCache: promptCache,
                activations: activations)
        ) { done, total in bar.update(done, total) }
        bar.finish("loaded on \(loaded.deviceName)")
        return loaded
    }
}

extension ComputeTarget.Preference: ExpressibleByArgument {}
extension GEMVActivations: ExpressibleByArgument {}
