import ClinferEngine
import ClinferOps
import Foundation
import Testing

@Suite("Safetensors: round trip, the real MiniLM file, bad input")
struct SafetensorsTests {
    /// A small file: F32, F16, BF16 matrices, an I64 buffer, a scalar, an empty tensor, metadata.
    static func written() throws -> (bytes: [UInt8], floats: [String: [Float]]) {
        var writer = SafetensorsWriter()
        writer.metadata = ["format": "pt", "note": "slash/and \"quotes\""]
        let f32 = SplitMix64.floats(12, seed: 1), f16 = SplitMix64.floats(6, seed: 2),
            bf16 = SplitMix64.floats(5, seed: 3)
        try writer.addTensor("encoder.dense.weight", shape: [3, 4], floats: f32)
        try writer.addTensor("encoder.half", shape: [2, 3], floats: f16, as: .f16)
        try writer.addTensor("encoder.brain", shape: [5], floats: bf16, as: .bf16)
        try writer.addTensor(
            "embeddings.position_ids", dtype: .i64, shape: [1, 3], bytes: [UInt8](repeating: 1, count: 24))
        try writer.addTensor("scale", shape: [], floats: [2.5])
        try writer.addTensor("empty", shape: [0, 4], floats: [])
        return (
            writer.serialized(),
            ["encoder.dense.weight": f32, "encoder.half": f16, "encoder.brain": bf16, "scale": [2.5], "empty": []]
        )
    }

    static func parse(_ bytes: [UInt8]) throws { _ = try SafetensorsFile(bytes: bytes, name: "bad.safetensors") }

    /// A file whose header is `json` verbatim followed by `data`.
    static func file(json: String, data: [UInt8] = []) -> [UInt8] {
        RawGGUF.u64(UInt64(json.utf8.count)) + Array(json.utf8) + data
    }

    @Test("a written file reads back: dtypes, shapes, metadata, values")
    func roundTrip() throws {
        let (bytes, floats) = try Self.written()
        let file = try FormatFixtures.withTemporaryFile(bytes, suffix: ".safetensors") { try SafetensorsFile(path: $0) }
        #expect(file.tensors.count == 6)
        #expect(file.metadata == ["format": "pt", "note": "slash/and \"quotes\""])
        #expect(file.headerLength % 8 == 0)
        #expect(
            file.orderedTensors.map(\.name) == [
                "encoder.dense.weight", "encoder.half", "encoder.brain", "embeddings.position_ids", "scale", "empty",
            ])
        let dense = try #require(file.tensor(named: "encoder.dense.weight"))
        #expect(dense.dtype == .f32 && dense.shape == [3, 4] && dense.byteCount == 48 && dense.elementCount == 12)
        #expect(try file.floats(of: dense) == floats["encoder.dense.weight"])
        let half = try #require(file.tensor(named: "encoder.half"))
        #expect(try file.floats(of: half) == floats["encoder.half"]!.map { Float(Float16($0)) })
        let brain = try #require(file.tensor(named: "encoder.brain"))
        #expect(zip(try file.floats(of: brain), floats["encoder.brain"]!).allSatisfy { abs($0 - $1) <= abs($1) / 256 })
        #expect(try file.floats(of: #require(file.tensor(named: "scale"))) == [2.5])
        #expect(try file.floats(of: #require(file.tensor(named: "empty"))) == [])
        let positions = try #require(file.tensor(named: "embeddings.position_ids"))
        #expect(positions.dtype == .i64 && !positions.dtype.isSupported && file.bytes(of: positions).count == 24)
        #expect(
            formatError { _ = try file.floats(of: positions) }
                == .unsupportedTensorType(path: file.path, tensor: "embeddings.position_ids", type: "I64"))
    }

    @Test("the real all-MiniLM-L6-v2 model.safetensors", .enabled(if: FormatFixtures.shouldRun(FormatFixtures.miniLM)))
    func miniLM() throws {
        try FormatFixtures.requireFile(FormatFixtures.miniLM)
        let file = try SafetensorsFile(path: FormatFixtures.miniLM)
        #expect(file.tensors.count > 100)
        let embeddings = try #require(file.tensor(named: "embeddings.word_embeddings.weight"))
        #expect(embeddings.dtype == .f32 && embeddings.shape == [30522, 384])
        let values = try file.floats(of: embeddings)
        #expect(values.count == 30522 * 384)
        #expect(values.allSatisfy { $0.isFinite })
        for info in file.tensors.values where info.dtype.isSupported {
            #expect(try file.floats(of: info).count == info.elementCount)
        }
    }

    @Test("every truncation is corrupt")
    func truncated() throws {
        let (bytes, _) = try Self.written()
        for length in 0..<bytes.count {
            do {
                _ = try SafetensorsFile(bytes: bytes[0..<length], name: "cut")
                Issue.record("a file cut to \(length) of \(bytes.count) bytes parsed")
            } catch {
                guard case .corrupt = error else { Issue.record("length \(length): \(error)"); continue }
            }
        }
        for length in [0, 7, 100] {
            let error = formatError {
                try FormatFixtures.withTemporaryFile(Array(bytes[0..<length])) { _ = try SafetensorsFile(path: $0) }
            }
            guard case .corrupt = error else {
                Issue.record("on disk, length \(length): \(String(describing: error))"); continue
            }
        }
        guard case .unreadable? = formatError({ _ = try SafetensorsFile(path: "/nonexistent/model.safetensors") })
        else { Issue.record("missing path"); return }
    }

    @Test("header length over the limit or past the end of the file is corrupt")
    func headerLength() {
        for length in [UInt64.max, 1 << 40, 100_000_001] {
            expectCorrupt("exceeds the 100000000-byte limit") { try Self.parse(RawGGUF.u64(length) + Array("{}".utf8)) }
        }
        expectCorrupt("JSON header") { try Self.parse(RawGGUF.u64(1000) + Array("{}".utf8)) }
    }

    @Test(
        "malformed JSON and a header of the wrong shape are corrupt",
        arguments: [
            "{", "", "[]", "{\"a\": 1}", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}",
            "{\"a\": {\"dtype\": 5, \"shape\": [1], \"data_offsets\": [0, 4]}}",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 99999999999999999999999]}}",
            "{\"__metadata__\": {\"k\": 1}}", "\u{FF}",
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}} trailing",
        ])
    func badJSON(json: String) {
        expectCorrupt("JSON header") { try Self.parse(Self.file(json: json, data: [0, 0, 0, 0])) }
    }

    @Test("offsets out of range, reversed, mismatched byte counts and negative extents are corrupt")
    func badEntries() {
        func entry(_ dtype: String = "F32", shape: String = "[2]", offsets: String) -> String {
            "{\"w\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": \(offsets)}}"
        }
        let data = [UInt8](repeating: 0, count: 8)
        expectCorrupt("inside the 8-byte data section") {
            try Self.parse(Self.file(json: entry(offsets: "[0, 16]"), data: data))
        }
        expectCorrupt("inside the 8-byte data section") {
            try Self.parse(Self.file(json: entry(offsets: "[8, 0]"), data: data))
        }
        expectCorrupt("inside the 8-byte data section") {
            try Self.parse(Self.file(json: entry(offsets: "[-8, 0]"), data: data))
        }
        expectCorrupt("must be [begin, end]") {
            try Self.parse(Self.file(json: entry(offsets: "[0, 4, 8]"), data: data))
        }
        expectCorrupt("data_offsets span 4") { try Self.parse(Self.file(json: entry(offsets: "[0, 4]"), data: data)) }
        expectCorrupt("data_offsets span 8") {
            try Self.parse(Self.file(json: entry("BF16", offsets: "[0, 8]"), data: data))
        }
        expectCorrupt("negative extent") {
            try Self.parse(Self.file(json: entry(shape: "[-2]", offsets: "[0, 8]"), data: data))
        }
        expectCorrupt("overflows") {
            try Self.parse(
                Self.file(json: entry(shape: "[4294967296, 4294967296, 4294967296]", offsets: "[0, 8]"), data: data))
        }
        expectCorrupt("tensor 'w'") {
            try Self.parse(Self.file(json: entry("I64", shape: "[2]", offsets: "[0, 8]"), data: data))
        }
        // Unknown dtypes load (only the range is checked) and are unsupported when used.
        let file = try? SafetensorsFile(bytes: Self.file(json: entry("Q9_Z", offsets: "[0, 3]"), data: data))
        let info = file?.tensor(named: "w")
        #expect(info?.byteCount == 3)
        if let file, let info {
            #expect(
                formatError { _ = try file.floats(of: info) }
                    == .unsupportedTensorType(path: "<memory>", tensor: "w", type: "Q9_Z"))
        }
    }
}
