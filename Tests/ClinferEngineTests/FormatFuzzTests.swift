import ClinferEngine
import ClinferOps
import Testing

/// Deterministic fuzzing of the GGUF and safetensors readers: seeded mutations of valid files
/// (truncations, bit flips, random header bytes, huge 8-byte values, digit edits in the JSON
/// header). Every case must parse or throw `ModelFormatError`; a parsed file must then read
/// every tensor (values or a typed error). A crash fails the whole test process.
@Suite("Format fuzz: mutated files parse or throw ModelFormatError, never crash")
struct FormatFuzzTests {
    static let cases = 1000

    /// Values that break size arithmetic when written over a length, count or offset.
    static let hugeValues: [UInt64] = [
        .max, .max - 1, 1 << 63, (1 << 63) - 1, 1 << 62, 1 << 40, 1 << 32, 0xFFFF_FFFF, 0,
    ]

    struct Mutator {
        var random: SplitMix64
        let headerEnd: Int

        mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &random) }

        /// One to three random mutations of `bytes`.
        mutating func mutate(_ original: [UInt8]) -> [UInt8] {
            var bytes = original
            for _ in 0..<int(1..<4) where !bytes.isEmpty {
                switch int(0..<5) {
                case 0:  // truncate
                    bytes.removeLast(int(1..<bytes.count + 1))
                case 1:  // flip bits anywhere
                    for _ in 0..<int(1..<5) { bytes[int(0..<bytes.count)] ^= 1 << UInt8(int(0..<8)) }
                case 2:  // random bytes in the header
                    let end = min(headerEnd, bytes.count)
                    for _ in 0..<int(1..<9) { bytes[int(0..<end)] = UInt8(int(0..<256)) }
                case 3:  // a huge or random 8-byte value over the header
                    let end = min(headerEnd, bytes.count)
                    guard end >= 8 else { continue }
                    let value = int(0..<4) == 0 ? random.next() : Self.huge(int(0..<FormatFuzzTests.hugeValues.count))
                    let at = int(0..<end - 7)
                    for k in 0..<8 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
                default:  // a huge 4-byte value (type ids, n_dims, versions)
                    let end = min(headerEnd, bytes.count)
                    guard end >= 4 else { continue }
                    let value = [UInt32.max, 1 << 31, 0xFFFF, UInt32(int(0..<64))][int(0..<4)]
                    let at = int(0..<end - 3)
                    for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
                }
            }
            return bytes
        }

        static func huge(_ index: Int) -> UInt64 { FormatFuzzTests.hugeValues[index] }
    }

    /// A small GGUF with metadata of several types, nested arrays and tensors of every type
    /// Clinfer reads (plain, legacy quants, Q5 and K-quants).
    static func gguf() throws -> (bytes: [UInt8], headerEnd: Int) {
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        writer.set("llama.block_count", .uint32(2))
        writer.set("llama.rope.freq_base", .float32(10000))
        writer.set("tokenizer.ggml.tokens", .array(.string(["a", "bb", "ccc", "<s>"])))
        writer.set("tokenizer.ggml.scores", .array(.float32([0, -1, -2, -3])))
        writer.set("nested", .array(.array([.int32([1, 2]), .string(["x"])])))
        writer.set("flag", .bool(true))
        for (index, type) in [GGUFTensorType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1].enumerated() {
            try writer.addTensor(
                "t\(index).\(type.name)", dimensions: [32, 2], floats: SplitMix64.floats(64, seed: UInt64(index)),
                as: type)
        }
        // Q5 and K-quant blocks (super-blocks of 256): truncations and dimension edits hit them too.
        for (index, type) in [GGUFTensorType.q5_0, .q5_1, .q4_K, .q5_K, .q6_K].enumerated() {
            let matrix = try QuantizedMatrix.randomBlocks(
                format: type.quantFormat!, rows: 2, columns: 256, seed: UInt64(index))
            try writer.addTensor("k\(index).\(type.name)", type: type, dimensions: [256, 2], bytes: matrix.data)
        }
        let bytes = writer.serialized()
        return (bytes, try GGUFFile(bytes: bytes).dataOffset)
    }

    @Test("GGUF: 1000 mutated files")
    func fuzzGGUF() throws {
        let (original, headerEnd) = try Self.gguf()
        let reference = try GGUFFile(bytes: original)
        var mutator = Mutator(random: SplitMix64(seed: 0x6767_7566), headerEnd: headerEnd)
        var parsed = 0, rejected = 0, intactTensors = 0
        for _ in 0..<Self.cases {
            let bytes = mutator.mutate(original)
            let file: GGUFFile
            do {
                file = try GGUFFile(bytes: bytes, name: "fuzz.gguf")
            } catch {
                // Typed throws: a ModelFormatError by construction; it must name the file.
                #expect(error.description.contains("fuzz.gguf"), "\(error)")
                rejected += 1
                continue
            }
            parsed += 1
            _ = (
                file.string("general.architecture"), file.int("llama.block_count"),
                file.strings("tokenizer.ggml.tokens"),
                file.floats("tokenizer.ggml.scores"), file.ints("nested")
            )
            for info in file.tensors {
                #expect(info.fileOffset + info.byteCount <= bytes.count)
                let values: [Float]
                do {
                    values = try file.floats(of: info)
                    if info.type.quantFormat != nil, info.dimensions.count == 2 { _ = try file.quantizedMatrix(info) }
                } catch {
                    #expect(!error.description.isEmpty)
                    continue
                }
                #expect(values.count == info.elementCount)
                // A tensor the mutations left untouched (same header entry, same bytes) reads the
                // original values: parsing a damaged file never silently shifts good data.
                if let same = reference.tensors.first(where: { $0.name == info.name }), same.type == info.type,
                    same.dimensions == info.dimensions, same.fileOffset == info.fileOffset,
                    original[same.fileOffset..<(same.fileOffset + same.byteCount)]
                        == bytes[info.fileOffset..<(info.fileOffset + info.byteCount)]
                {
                    let expected = try reference.floats(of: same)
                    #expect(zip(values, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "tensor \(info.name)")
                    intactTensors += 1
                }
            }
        }
        // Both outcomes are exercised, and intact tensors were compared.
        #expect(parsed >= 10 && rejected >= 100, "parsed \(parsed), rejected \(rejected)")
        #expect(intactTensors > 0)
    }

    @Test("safetensors: 1000 mutated files")
    func fuzzSafetensors() throws {
        var writer = SafetensorsWriter()
        writer.metadata = ["format": "pt"]
        try writer.addTensor("a.weight", shape: [4, 8], floats: SplitMix64.floats(32, seed: 1))
        try writer.addTensor("b.weight", shape: [8], floats: SplitMix64.floats(8, seed: 2), as: .f16)
        try writer.addTensor("c.weight", shape: [2, 2], floats: SplitMix64.floats(4, seed: 3), as: .bf16)
        try writer.addTensor("ids", dtype: .i64, shape: [3], bytes: [UInt8](repeating: 0, count: 24))
        let original = writer.serialized()
        let headerEnd = 8 + (try SafetensorsFile(bytes: original).headerLength)
        let digits = original[8..<headerEnd].indices.filter {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(original[$0])
        }
        var mutator = Mutator(random: SplitMix64(seed: 0x7361_6665), headerEnd: headerEnd)
        var parsed = 0, rejected = 0
        for index in 0..<Self.cases {
            var bytes: [UInt8]
            if index % 2 == 0, !digits.isEmpty {
                // Replace one number's digit with another digit or a long run of digits.
                let at = digits[mutator.int(0..<digits.count)]
                let replacement =
                    mutator.int(0..<3) == 0
                    ? Array("99999999999999999999".utf8) : [UInt8(ascii: "0") + UInt8(mutator.int(0..<10))]
                bytes = Array(original[0..<at]) + replacement + Array(original[(at + 1)...])
                if replacement.count > 1 {
                    bytes.replaceSubrange(0..<8, with: RawGGUF.u64(UInt64(headerEnd - 8 + replacement.count - 1)))
                }
            } else {
                bytes = mutator.mutate(original)
            }
            let file: SafetensorsFile
            do {
                file = try SafetensorsFile(bytes: bytes, name: "fuzz.safetensors")
            } catch {
                #expect(error.description.contains("fuzz.safetensors"), "\(error)")
                rejected += 1
                continue
            }
            parsed += 1
            for info in file.tensors.values {
                #expect(info.fileOffset + info.byteCount <= bytes.count)
                do {
                    #expect(try file.floats(of: info).count == info.elementCount)
                } catch {
                    #expect(!error.description.isEmpty)
                }
            }
        }
        #expect(parsed >= 10 && rejected >= 100, "parsed \(parsed), rejected \(rejected)")
    }
}
