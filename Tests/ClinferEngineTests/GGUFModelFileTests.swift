import ClinferEngine
import Foundation
import Testing

@Suite("GGUF: the real SmolLM2-135M-Instruct Q4_1 file")
struct GGUFModelFileTests {
    @Test(
        "header, llama metadata, tokenizer arrays and tensor directory",
        .enabled(if: FormatFixtures.shouldRun(FormatFixtures.smolLM2)))
    func smolLM2() throws {
        try FormatFixtures.requireFile(FormatFixtures.smolLM2)
        let start = ContinuousClock.now
        let file = try GGUFFile(path: FormatFixtures.smolLM2)
        let parse = ContinuousClock.now - start
        print(
            "parsed \(FormatFixtures.smolLM2) (\(file.fileSize) bytes, \(file.metadata.count) keys, \(file.tensors.count) tensors) in \(parse)"
        )

        #expect(file.version == 3)
        #expect(file.tensors.count >= 272)
        #expect(file.string("general.architecture") == "llama")
        #expect(file.int("llama.block_count") == 30)
        #expect(file.int("llama.embedding_length") == 576)
        #expect(file.dataOffset % file.alignment == 0)

        let tokens = try #require(file.strings("tokenizer.ggml.tokens"))
        #expect(tokens.count == 49152)
        #expect(tokens.contains("<|im_start|>"))
        #expect((file.strings("tokenizer.ggml.merges")?.count ?? 0) > 40_000)

        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.type == .q8_0)
        #expect(embedding.dimensions == [576, 49152])
        #expect(embedding.byteCount == 49152 * 576 / 32 * 34)

        let q41 = try #require(file.tensors.first { $0.type == .q4_1 })
        let matrix = try file.quantizedMatrix(q41)
        #expect(matrix.rows == q41.dimensions[1] && matrix.columns == q41.dimensions[0])
        let values = try file.floats(of: q41)
        #expect(values.count == q41.elementCount)
        #expect(values.allSatisfy { $0.isFinite })
        #expect(values.contains { $0 != 0 })

        let norm = try #require(file.tensor(named: "blk.0.attn_norm.weight"))
        #expect(norm.type == .f32 && norm.dimensions == [576])
        #expect(try file.floats(of: norm).allSatisfy { $0.isFinite })
        for info in file.tensors { #expect(info.type.isSupported, "\(info.name) is \(info.type)") }
    }
}
