import ClinferEngine
import ClinferOps
import Foundation
import Testing

/// The real model files the engine tests use, fetched by `make models` into models/ (or
/// $CLINFER_MODELS_DIR). Without them a test is reported skipped locally, and fails in CI (CI=true).
enum TestModels {
    static let directory: URL = {
        if let custom = ProcessInfo.processInfo.environment["CLINFER_MODELS_DIR"] {
            return URL(fileURLWithPath: custom)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models")
            .standardized
    }()

    static let smolLM2 = directory.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path
    /// The second architecture (`make models-extra`): Gemma 3 270M, Q4_K_M (F32, Q5_0, Q4_K, Q6_K, Q8_0).
    static let gemma3 = directory.appendingPathComponent("gemma-3-270m-q4_k_m.gguf").path

    static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether a test needing `path` runs: in CI always (a missing file then fails it), elsewhere
    /// when the file exists (otherwise the test is reported as skipped).
    static func required(_ path: String) -> Bool {
        inCI || FileManager.default.fileExists(atPath: path)
    }

    /// SmolLM2 (or another file) as a bare ``DecoderModel`` on `ops` (no scheduler), caches up to
    /// `maxPositions`.
    static func smolLM2Model<Ops: TransformerOps>(
        on ops: Ops, maxPositions: Int = 64, path: String = smolLM2
    ) throws -> DecoderModel<Ops> {
        let file = try GGUFFile(path: path)
        let configuration = try DecoderConfiguration(gguf: file)
        return try DecoderModel(
            configuration: configuration, weights: try DecoderWeights(gguf: file, configuration: configuration),
            ops: ops,
            maxPositions: maxPositions)
    }

    /// The chat model on the OpenCL device and on the CPU, loaded once per test process.
    static let openCLModel = Result {
        try LanguageModel(path: smolLM2, options: .init(backend: .opencl, contextLength: 512))
    }
    static let cpuModel = Result { try LanguageModel(path: smolLM2, options: .init(backend: .cpu, contextLength: 512)) }
}

/// A committed golden file under Tests/ClinferEngineTests/Golden.
func golden<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}
