import ClinferEngine
import Foundation
import Testing

/// Files and helpers the format tests (GGUF, safetensors, fuzz) share.
///
/// The real model files come from scripts/fetch-models.sh into models/ (or the directory in
/// $CLINFER_MODELS_DIR). A missing file skips its test on a developer machine and fails it in
/// CI (`CI=true`), where it must run.
enum FormatFixtures {
    static let modelsDirectory: URL = {
        if let custom = ProcessInfo.processInfo.environment["CLINFER_MODELS_DIR"], !custom.isEmpty {
            return URL(fileURLWithPath: custom)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models")
    }()

    static let smolLM2 = modelsDirectory.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path
    static let miniLM = modelsDirectory.appendingPathComponent("all-MiniLM-L6-v2/model.safetensors").path

    static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether a test of `path` runs: when the file exists, and always in CI.
    static func shouldRun(_ path: String) -> Bool { inCI || FileManager.default.fileExists(atPath: path) }

    /// Fails the test (in CI) when `path` is missing.
    static func requireFile(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(
            FileManager.default.fileExists(atPath: path),
            "\(path) is missing: fetch the models with scripts/fetch-models.sh",
            sourceLocation: sourceLocation)
    }

    /// Writes `bytes` to a fresh temporary file, runs `body` with its path, and removes it.
    static func withTemporaryFile<T>(
        _ bytes: [UInt8], suffix: String = ".bin", _ body: (String) throws -> T
    ) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "clinfer-format-\(UUID().uuidString)\(suffix)")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url.path)
    }
}

/// Little-endian GGUF pieces for hand-built (often deliberately broken) files.
enum RawGGUF {
    static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func u64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    static func string(_ text: String) -> [UInt8] { u64(UInt64(text.utf8.count)) + Array(text.utf8) }

    /// Magic, version and the two counts.
    static func header(version: UInt32 = 3, tensors: UInt64, keys: UInt64) -> [UInt8] {
        Array("GGUF".utf8) + u32(version) + u64(tensors) + u64(keys)
    }

    /// One metadata pair: key, type tag, encoded value.
    static func pair(_ key: String, type: UInt32, _ value: [UInt8]) -> [UInt8] { string(key) + u32(type) + value }

    /// One tensor info.
    static func tensor(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) -> [UInt8] {
        string(name) + u32(UInt32(dims.count)) + dims.flatMap(u64) + u32(type) + u64(offset)
    }

    /// A whole file: header, pairs, tensor infos, zero padding to `alignment`, then `data`.
    static func file(
        version: UInt32 = 3, pairs: [[UInt8]] = [], tensors: [[UInt8]] = [], data: [UInt8] = [], alignment: Int = 32
    ) -> [UInt8] {
        var out =
            header(version: version, tensors: UInt64(tensors.count), keys: UInt64(pairs.count)) + pairs.flatMap { $0 }
            + tensors.flatMap { $0 }
        out += [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment)
        return out + data
    }
}

/// The `ModelFormatError` that `body` throws, or nil (recording an issue) when it throws
/// nothing or something else.
func formatError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> ModelFormatError? {
    do {
        try body()
        Issue.record("expected a ModelFormatError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ModelFormatError {
        return error
    } catch {
        Issue.record("expected a ModelFormatError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Expects `body` to throw `corrupt` whose detail contains `fragment`.
func expectCorrupt(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    guard let error = formatError(sourceLocation: sourceLocation, body) else { return }
    guard case .corrupt(_, let detail) = error, detail.contains(fragment) else {
        Issue.record("expected corrupt(…\(fragment)…), got \(error)", sourceLocation: sourceLocation)
        return
    }
}
