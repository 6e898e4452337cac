import ClinferEngine
import Foundation
import Testing

@Suite("GGUF bad input: typed errors naming the problem, never a crash")
struct GGUFBadInputTests {
    typealias R = RawGGUF

    /// 34 bytes: one Q8_0 block.
    static let q8Block = [UInt8](repeating: 0, count: 34)

    /// A valid file with one key and one Q8_0 tensor, for variations.
    static func file(
        pairs: [[UInt8]] = [R.pair("general.architecture", type: 8, R.string("llama"))],
        tensors: [[UInt8]] = [R.tensor("t", dims: [32], type: 8, offset: 0)],
        data: [UInt8] = q8Block, alignment: Int = 32
    ) -> [UInt8] {
        R.file(pairs: pairs, tensors: tensors, data: data, alignment: alignment)
    }

    static func parse(_ bytes: [UInt8]) throws { _ = try GGUFFile(bytes: bytes, name: "bad.gguf") }

    @Test("the baseline of these variations parses")
    func baseline() throws {
        let file = try GGUFFile(bytes: Self.file())
        #expect(file.tensors.count == 1 && file.string("general.architecture") == "llama")
    }

    @Test("every truncation before the end of the last tensor's data is corrupt")
    func truncatedEverywhere() throws {
        let bytes = try GGUFRoundTripTests.written().bytes
        let file = try GGUFFile(bytes: bytes)
        let end = file.tensors.map { $0.fileOffset + $0.byteCount }.max() ?? 0
        for length in 0..<end {
            do {
                _ = try GGUFFile(bytes: bytes[0..<length], name: "cut.gguf")
                Issue.record("a file cut to \(length) of \(bytes.count) bytes parsed")
            } catch {
                guard case .corrupt(let path, _) = error, path == "cut.gguf" else {
                    Issue.record("length \(length): \(error)"); continue
                }
            }
        }
        // The padding after the last tensor is optional.
        #expect(try GGUFFile(bytes: bytes[0..<end]).tensors.count == file.tensors.count)
    }

    @Test("truncated files on disk are corrupt; missing paths and directories are unreadable")
    func truncatedOnDisk() throws {
        let bytes = try GGUFRoundTripTests.written().bytes
        for length in stride(from: 0, to: bytes.count - 200, by: 97) {
            let error = formatError {
                try FormatFixtures.withTemporaryFile(Array(bytes[0..<length]), suffix: ".gguf") {
                    _ = try GGUFFile(path: $0)
                }
            }
            guard case .corrupt = error else {
                Issue.record("length \(length): \(String(describing: error))"); continue
            }
        }
        let missing = formatError { _ = try GGUFFile(path: "/nonexistent/model.gguf") }
        guard case .unreadable(let path, _) = missing, path == "/nonexistent/model.gguf" else {
            Issue.record("\(String(describing: missing))"); return
        }
        let directory = formatError { _ = try GGUFFile(path: FileManager.default.temporaryDirectory.path) }
        guard case .unreadable(_, let detail) = directory, detail.contains("not a regular file") else {
            Issue.record("\(String(describing: directory))"); return
        }
    }

    @Test("bad magic, version 1, unknown versions and big-endian files are refused")
    func magicAndVersion() {
        var bytes = Self.file()
        bytes[3] = UInt8(ascii: "G")
        expectCorrupt("bad magic") { try Self.parse(bytes) }
        expectCorrupt("not a GGUF") { try Self.parse(Array("PK\u{3}\u{4}".utf8) + [UInt8](repeating: 0, count: 40)) }
        for (version, fragment) in [
            (UInt32(1), "version 1"), (4, "version 4"), (0, "version 0"), (0x0300_0000, "big-endian"),
        ] {
            let error = formatError { try Self.parse(R.file(version: version)) }
            guard case .unsupported(_, let detail) = error, detail.contains(fragment) else {
                Issue.record("version \(version): \(String(describing: error))")
                continue
            }
        }
    }

    @Test("unknown tensor type ids are corrupt", arguments: [UInt32(4), 5, 31, 33, 36, 38, 40, 1000, UInt32.max])
    func unknownTensorType(id: UInt32) {
        expectCorrupt("unknown ggml type id \(id)") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32], type: id, offset: 0)]))
        }
    }

    @Test("huge string lengths, array counts and tensor or key counts are corrupt")
    func hugeCounts() {
        for huge in [UInt64.max, 1 << 62, 1 << 40, 10_000] {
            expectCorrupt("metadata key 0 length") {
                try Self.parse(
                    R.header(tensors: 0, keys: 1) + R.u64(huge) + Array("key".utf8) + [UInt8](repeating: 0, count: 32))
            }
            expectCorrupt("array count") {
                try Self.parse(Self.file(pairs: [R.pair("a", type: 9, R.u32(8) + R.u64(huge) + R.string("x"))]))
            }
            expectCorrupt("array count") {
                try Self.parse(Self.file(pairs: [R.pair("a", type: 9, R.u32(0) + R.u64(huge))]))
            }
            expectCorrupt("tensor 0 name length") {
                try Self.parse(R.header(tensors: 1, keys: 0) + R.u64(huge) + [UInt8](repeating: 0, count: 40))
            }
            expectCorrupt("tensor count") {
                try Self.parse(R.header(tensors: huge, keys: 0) + [UInt8](repeating: 0, count: 64))
            }
            expectCorrupt("metadata count") {
                try Self.parse(R.header(tensors: 0, keys: huge) + [UInt8](repeating: 0, count: 64))
            }
            expectCorrupt("metadata key 's' length") {
                try Self.parse(Self.file(pairs: [R.pair("s", type: 8, R.u64(huge) + Array("abc".utf8))]))
            }
        }
    }

    @Test("tensor data past the end of the file, or at an offset that overflows, is corrupt")
    func dataPastEnd() {
        expectCorrupt("extends past the end") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32], type: 8, offset: 32 * 100)]))
        }
        expectCorrupt("extends past the end") { try Self.parse(Self.file(data: Array(Self.q8Block.dropLast()))) }
        expectCorrupt("extends past the end") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32, 1_000_000], type: 8, offset: 0)]))
        }
        expectCorrupt("extends past the end") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32], type: 8, offset: UInt64(Int.max) & ~31)]))
        }
        expectCorrupt("out of range") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32], type: 8, offset: UInt64.max & ~31)]))
        }
    }

    @Test("tensor byte counts that overflow are corrupt, in 1-D tensors too")
    func byteCountOverflow() {
        // 0x7FFF_FFFF_FFFF_FFE0 Q8_0 elements: (ne0 / 32) * 34 bytes overflows Int in the first product.
        expectCorrupt("must fit in 64 bits") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [0x7FFF_FFFF_FFFF_FFE0], type: 8, offset: 0)]))
        }
        expectCorrupt("must fit in 64 bits") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [0x7FFF_FFFF_FFFF_FFE0, 1], type: 8, offset: 0)]))
        }
        expectCorrupt("must fit in 64 bits") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32, 1 << 62, 4], type: 8, offset: 0)]))
        }
        #expect(GGUFTensorType.q8_0.byteCount(dimensions: [0x7FFF_FFFF_FFFF_FFE0]) == nil)
        #expect(GGUFTensorType.q8_0.byteCount(dimensions: [64, 3]) == 2 * 34 * 3)
        #expect(GGUFTensorType.f32.byteCount(dimensions: [Int.max / 2]) == nil)
    }

    @Test("misaligned tensor offsets and bad general.alignment values are corrupt")
    func alignment() {
        let data = Self.q8Block + [UInt8](repeating: 0, count: 64)
        expectCorrupt("not a multiple of the alignment 32") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32], type: 8, offset: 8)], data: data))
        }
        for value in [UInt32(0), 3, 48, 100] {
            expectCorrupt("is not a power of two") {
                try Self.parse(Self.file(pairs: [R.pair("general.alignment", type: 4, R.u32(value))]))
            }
        }
        expectCorrupt("must be an integer") {
            try Self.parse(Self.file(pairs: [R.pair("general.alignment", type: 8, R.string("32"))]))
        }
        expectCorrupt("is not a power of two") {
            try Self.parse(Self.file(pairs: [R.pair("general.alignment", type: 5, R.u32(UInt32(bitPattern: -32)))]))
        }
        // A valid non-default alignment moves the data section.
        let sixteen = R.file(
            pairs: [R.pair("general.alignment", type: 4, R.u32(16))],
            tensors: [R.tensor("t", dims: [32], type: 8, offset: 0)],
            data: Self.q8Block, alignment: 16)
        #expect((try? GGUFFile(bytes: sixteen))?.alignment == 16)
    }

    @Test("duplicate tensor names and duplicate metadata keys are corrupt")
    func duplicates() {
        let twoTensors = [
            R.tensor("same", dims: [32], type: 8, offset: 0), R.tensor("same", dims: [32], type: 8, offset: 64),
        ]
        expectCorrupt("duplicate tensor name 'same'") {
            try Self.parse(
                Self.file(tensors: twoTensors, data: Self.q8Block + Self.q8Block + [UInt8](repeating: 0, count: 64)))
        }
        let twoKeys = [R.pair("k", type: 4, R.u32(1)), R.pair("k", type: 4, R.u32(2))]
        expectCorrupt("duplicate metadata key 'k'") { try Self.parse(Self.file(pairs: twoKeys)) }
    }

    @Test("bad dimensions are corrupt: none, more than 4, zero, overflowing, ne0 not a block multiple")
    func dimensions() {
        expectCorrupt("0 dimensions") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [], type: 8, offset: 0)]))
        }
        expectCorrupt("5 dimensions") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32, 1, 1, 1, 1], type: 8, offset: 0)]))
        }
        expectCorrupt("dimension 1 is 0") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32, 0], type: 8, offset: 0)]))
        }
        expectCorrupt("dimension 0 is \(UInt64.max)") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [UInt64.max], type: 0, offset: 0)]))
        }
        expectCorrupt("must fit in 64 bits") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [1 << 32, 1 << 32, 1 << 32], type: 0, offset: 0)]))
        }
        expectCorrupt("multiple of 32") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [33], type: 8, offset: 0)]))
        }
        expectCorrupt("multiple of 256") {
            try Self.parse(Self.file(tensors: [R.tensor("t", dims: [32], type: 12, offset: 0)]))
        }
    }

    @Test("bad metadata values are corrupt: unknown type tag, bool not 0/1, arrays nested too deep")
    func badValues() {
        expectCorrupt("unknown value type 13") { try Self.parse(Self.file(pairs: [R.pair("k", type: 13, R.u32(0))])) }
        expectCorrupt("unknown value type 99") {
            try Self.parse(Self.file(pairs: [R.pair("k", type: 9, R.u32(99) + R.u64(0))]))
        }
        expectCorrupt("bool value 2") { try Self.parse(Self.file(pairs: [R.pair("k", type: 7, [2])])) }
        expectCorrupt("bool element 1 is 5") {
            try Self.parse(Self.file(pairs: [R.pair("k", type: 9, R.u32(7) + R.u64(2) + [1, 5])]))
        }
        var nested = R.u32(0) + R.u64(0)
        for _ in 0..<9 { nested = R.u32(9) + R.u64(1) + nested }
        expectCorrupt("nested more than 8 deep") { try Self.parse(Self.file(pairs: [R.pair("deep", type: 9, nested)])) }
    }

    @Test("an unsupported tensor type loads, and using it throws unsupportedTensorType naming the tensor")
    func unsupportedType() throws {
        let tensors = [
            R.tensor("blk.0.ffn_down.weight", dims: [256, 2], type: 10, offset: 0),
            R.tensor("positions", dims: [4], type: 27, offset: 192),
        ]
        let file = try GGUFFile(
            bytes: Self.file(tensors: tensors, data: [UInt8](repeating: 0, count: 192 + 32)), name: "k.gguf")
        let q2k = try #require(file.tensor(named: "blk.0.ffn_down.weight"))
        #expect(q2k.type == .q2_K && q2k.byteCount == 168 && !q2k.type.isSupported)
        for error in [formatError { _ = try file.floats(of: q2k) }, formatError { _ = try file.quantizedMatrix(q2k) }] {
            guard case .unsupportedTensorType(let path, let tensor, let type) = error else {
                Issue.record("\(String(describing: error))"); continue
            }
            #expect(path == "k.gguf" && tensor == "blk.0.ffn_down.weight" && type.hasPrefix("Q2_K"))
        }
        let positions = try #require(file.tensor(named: "positions"))
        #expect(
            formatError { _ = try file.floats(of: positions) }
                == .unsupportedTensorType(path: "k.gguf", tensor: "positions", type: "I64"))
        #expect(file.bytes(of: positions).count == 32)
    }

    @Test("quantizedMatrix needs a 2-D quantized tensor of this file")
    func quantizedMatrixMisuse() throws {
        let tensors = [
            R.tensor("vector", dims: [32], type: 8, offset: 0),
            R.tensor("cube", dims: [32, 2, 2], type: 8, offset: 64),
            R.tensor("flat", dims: [32, 2, 1], type: 2, offset: 224), R.tensor("norm", dims: [2], type: 0, offset: 288),
        ]
        let data = [UInt8](repeating: 0, count: 320)
        let file = try GGUFFile(bytes: Self.file(tensors: tensors, data: data))
        guard case .missing(_, let detail)? = formatError({ _ = try file.quantizedMatrix(file.tensors[0]) }) else {
            Issue.record("vector"); return
        }
        #expect(detail.contains("'vector'"))
        guard case .missing? = formatError({ _ = try file.quantizedMatrix(file.tensors[1]) }) else {
            Issue.record("cube"); return
        }
        let flat = try file.quantizedMatrix(file.tensors[2])
        #expect(flat.rows == 2 && flat.columns == 32 && flat.format == .q4_0)
        guard
            case .unsupportedTensorType(_, "norm", _)? = formatError({ _ = try file.quantizedMatrix(file.tensors[3]) })
        else { Issue.record("norm"); return }
        let other = try GGUFFile(
            bytes: Self.file(tensors: [R.tensor("vector", dims: [32], type: 8, offset: 32)], data: data))
        guard case .missing? = formatError({ _ = try file.floats(of: other.tensors[0]) }) else {
            Issue.record("foreign tensor"); return
        }
    }

    @Test("require… helpers throw missing naming the key")
    func missingMetadata() throws {
        let file = try GGUFFile(bytes: Self.file(), name: "m.gguf")
        #expect(
            formatError { _ = try file.requireInt("llama.block_count") }
                == .missing(path: "m.gguf", detail: "metadata key 'llama.block_count' is missing"))
        #expect(
            formatError { _ = try file.requireFloat("general.architecture") }
                == .missing(
                    path: "m.gguf", detail: "metadata key 'general.architecture' is a string, expected a number"))
        #expect(
            formatError { _ = try file.requireString("nope") }?.description == "m.gguf: metadata key 'nope' is missing")
    }
}
