import ClinferEngine
import ClinferOps
import Foundation
import Testing

/// sentence-transformers' embeddings of all-MiniLM-L6-v2 (Golden/minilm-embeddings.json).
struct MiniLMEmbeddingsGolden: Decodable {
    let texts: [String]
    let token_counts: [Int]
    let embeddings: [[Float]]
}

func cosine(_ a: [Float], _ b: [Float]) -> Float { Float(cosine64(a, b)) }

func cosine64(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    return dot / max((na * nb).squareRoot(), 1e-30)
}

func maxAbsDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
    zip(a, b).map { zip($0, $1).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
}

@Suite("Embeddings: all-MiniLM-L6-v2 on OpenCL and CPU vs sentence-transformers", .serialized)
struct EmbeddingModelTests {
    /// Loaded once per test process; OpenCL must find a device (a missing one fails, never skips).
    static let openCLModel = Result {
        try EmbeddingModel(directory: TestModels.miniLM, options: .init(backend: .opencl))
    }
    static let cpuModel = Result { try EmbeddingModel(directory: TestModels.miniLM, options: .init(backend: .cpu)) }

    @Test(
        "1 − cosine ≤ 1e-6 with sentence-transformers per sentence, on OpenCL and on the CPU",
        .enabled(if: TestModels.required(TestModels.miniLM + "/model.safetensors")))
    func matchesReference() async throws {
        let reference = try golden("minilm-embeddings.json", as: MiniLMEmbeddingsGolden.self)
        for model in [try Self.openCLModel.get(), try Self.cpuModel.get()] {
            #expect(model.dimension == 384 && model.maxSequenceLength == 256)
            #expect(reference.texts.map { model.tokenize($0).count } == reference.token_counts)
            let vectors = try await model.embed(reference.texts)
            #expect(vectors.count == reference.texts.count)
            for (index, (vector, expected)) in zip(vectors, reference.embeddings).enumerated() {
                let similarity = cosine(vector, expected)
                print("\(model.deviceName) sentence \(index): 1 − cosine = \(1 - cosine64(vector, expected))")
                // Measured 1 − cosine ≈ 2e-11; 1e-6 catches a real regression (a wrong norm, a dropped bias).
                #expect(
                    1 - cosine64(vector, expected) <= 1e-6,
                    "\(model.deviceName) sentence \(index): cosine \(similarity)")
                #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5, "unit length")
            }
        }
    }

    @Test(
        "a batch of texts of different lengths equals embedding them one by one, on OpenCL and on the CPU",
        .enabled(if: TestModels.required(TestModels.miniLM + "/model.safetensors")))
    func batchEqualsSingle() async throws {
        let texts = try golden("minilm-embeddings.json", as: MiniLMEmbeddingsGolden.self).texts + ["", "Hi."]
        for model in [try Self.openCLModel.get(), try Self.cpuModel.get()] {
            let batched = try await model.embed(texts)
            var single: [[Float]] = []
            for text in texts { single += try await model.embed([text]) }
            #expect(
                maxAbsDifference(batched, single) <= 1e-5,
                "\(model.deviceName): max |Δ| \(maxAbsDifference(batched, single))")
            #expect(
                cosine(batched[texts.count - 1], batched[0]) > 0.99999, "\(model.deviceName): the repeated text agrees")
            #expect(try await model.embed([]).isEmpty)
        }
    }

    @Test(
        "a text longer than max_seq_length embeds as its first 254 pieces between [CLS] and [SEP]",
        .enabled(if: TestModels.required(TestModels.miniLM + "/model.safetensors")))
    func truncatedText() async throws {
        let long = String(repeating: "Rivers carve valleys over thousands of years. ", count: 40)
        let model = try Self.openCLModel.get()
        let ids = model.tokenize(long)
        #expect(ids.count == 256 && ids.last == 102)
        let cut = model.tokenizer.decode(ids)  // the text the 256 tokens spell
        #expect(model.tokenize(cut) == ids)
        let vectors = try await model.embed([long, cut])
        #expect(maxAbsDifference([vectors[0]], [vectors[1]]) <= 1e-6)
    }
}

/// A tiny random BERT written as a sentence-transformers directory: fast checks of the whole
/// pipeline (tokenizer, encoder, pooling) on both backends without the real model.
enum TinyBert {
    static let vocabulary = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a", "dog", ".", ",",
        "hello", "world", "un", "##believ", "##able",
    ]
    static var config: [String: Any] {
        [
            "model_type": "bert", "hidden_act": "gelu", "hidden_size": 16, "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 24, "max_position_embeddings": 12, "type_vocab_size": 2,
            "vocab_size": vocabulary.count, "layer_norm_eps": 1e-12,
        ]
    }

    /// Writes the model into a fresh temporary directory; `edit` may change the files first.
    static func directory(
        config overrides: [String: Any] = [:], vocabulary: [String] = vocabulary, modules: [[String: Any]]? = nil,
        pooling: [String: Any] = ["pooling_mode_mean_tokens": true], skip: Set<String> = []
    ) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "clinfer-tinybert-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(
            at: url.appendingPathComponent("1_Pooling"), withIntermediateDirectories: true)
        func write(_ name: String, _ data: Data) throws {
            if !skip.contains(name) { try data.write(to: url.appendingPathComponent(name)) }
        }
        let merged = config.merging(overrides) { $1 }
        try write("config.json", try JSONSerialization.data(withJSONObject: merged))
        try write("vocab.txt", Data((vocabulary.joined(separator: "\n") + "\n").utf8))
        try write(
            "modules.json",
            try JSONSerialization.data(
                withJSONObject: modules ?? [
                    ["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
                    ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
                    ["idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"],
                ]))
        try write("1_Pooling/config.json", try JSONSerialization.data(withJSONObject: pooling))
        try write("sentence_bert_config.json", Data(#"{"max_seq_length": 10}"#.utf8))
        var writer = SafetensorsWriter()
        var seed: UInt64 = 1
        func add(_ name: String, _ shape: [Int], scale: Float = 0.5, offset: Float = 0) throws {
            seed += 1
            try writer.addTensor(
                name, shape: shape,
                floats: SplitMix64.floats(shape.reduce(1, *), seed: seed, in: -scale...scale).map { $0 + offset })
        }
        let h = 16, f = 24
        try add("embeddings.word_embeddings.weight", [vocabulary.count, h])
        try add("embeddings.position_embeddings.weight", [12, h])
        try add("embeddings.token_type_embeddings.weight", [2, h])
        try add("embeddings.LayerNorm.weight", [h], offset: 1)
        try add("embeddings.LayerNorm.bias", [h], scale: 0.1)
        for layer in 0..<2 {
            let p = "encoder.layer.\(layer)."
            for name in ["query", "key", "value"] {
                try add(p + "attention.self.\(name).weight", [h, h])
                try add(p + "attention.self.\(name).bias", [h], scale: 0.1)
            }
            try add(p + "attention.output.dense.weight", [h, h])
            try add(p + "attention.output.dense.bias", [h], scale: 0.1)
            try add(p + "attention.output.LayerNorm.weight", [h], offset: 1)
            try add(p + "attention.output.LayerNorm.bias", [h], scale: 0.1)
            try add(p + "intermediate.dense.weight", [f, h])
            try add(p + "intermediate.dense.bias", [f], scale: 0.1)
            try add(p + "output.dense.weight", [h, f])
            try add(p + "output.dense.bias", [h], scale: 0.1)
            try add(p + "output.LayerNorm.weight", [h], offset: 1)
            try add(p + "output.LayerNorm.bias", [h], scale: 0.1)
        }
        try write("model.safetensors", Data(writer.serialized()))
        return url
    }
}

@Suite("Embeddings: a tiny random BERT on both backends, and bad model directories")
struct TinyBertEmbeddingTests {
    static let texts = [
        "the cat sat on the mat.", "hello world", "", "a dog, a cat", "unbelievable cats",
        "the the the the the the the the the the the",
    ]

    @Test("OpenCL equals CPU, batches equal single texts, vectors are unit length, truncation to max_seq_length")
    func backendsAndBatching() async throws {
        let url = try TinyBert.directory()
        defer { try? FileManager.default.removeItem(at: url) }
        let openCL = try await EmbeddingModel.load(directory: url.path, options: .init(backend: .opencl, batchSize: 4))
        let cpu = try await EmbeddingModel.load(directory: url.path, options: .init(backend: .cpu))
        #expect(openCL.dimension == 16 && openCL.maxSequenceLength == 10 && openCL.deviceName.hasPrefix("opencl"))
        #expect(cpu.deviceName == "cpu")
        #expect(openCL.tokenize(Self.texts[5]).count == 10)
        let a = try await openCL.embed(Self.texts), b = try await cpu.embed(Self.texts)
        #expect(maxAbsDifference(a, b) <= 2e-5, "OpenCL vs CPU max |Δ| \(maxAbsDifference(a, b))")
        var single: [[Float]] = []
        for text in Self.texts { single += try await cpu.embed([text]) }
        #expect(maxAbsDifference(b, single) <= 1e-6, "CPU batch vs single max |Δ| \(maxAbsDifference(b, single))")
        for vector in a { #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5) }
        #expect(try openCL.embeddings(["hello world"]) == [a[1]])
    }

    @Test("pooling modes from 1_Pooling/config.json: CLS and max concatenated, no Normalize module")
    func poolingModes() async throws {
        let modules: [[String: Any]] = [
            ["path": "", "type": "sentence_transformers.models.Transformer"],
            ["path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
        ]
        let url = try TinyBert.directory(
            modules: modules, pooling: ["pooling_mode_cls_token": true, "pooling_mode_max_tokens": true])
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try EmbeddingModel(directory: url.path, options: .init(backend: .cpu))
        #expect(model.pooling == SentencePooling(modes: [.cls, .max], normalize: false) && model.dimension == 32)
        let vector = try await model.embed(["hello world"])[0]
        #expect(vector.count == 32 && zip(vector[0..<16], vector[16...]).allSatisfy { $0 <= $1 }, "max ≥ the CLS state")
    }

    @Test("missing files, unsupported configurations and vocabularies give typed errors")
    func badDirectories() throws {
        func load(_ url: URL) throws { _ = try EmbeddingModel(directory: url.path, options: .init(backend: .cpu)) }
        func check<E: Error>(_ url: URL, _ type: E.Type, _ matches: (E) -> Bool, _ what: String) {
            defer { try? FileManager.default.removeItem(at: url) }
            do {
                try load(url)
                Issue.record("\(what): loaded")
            } catch let error as E {
                #expect(matches(error), "\(what): \(error)")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
        func missing(_ error: ModelFormatError) -> Bool { if case .missing = error { true } else { false } }
        func unsupported(_ error: ModelFormatError) -> Bool { if case .unsupported = error { true } else { false } }
        check(
            try TinyBert.directory(skip: ["model.safetensors"]), ModelFormatError.self, missing, "no model.safetensors")
        check(try TinyBert.directory(skip: ["config.json"]), ModelFormatError.self, missing, "no config.json")
        check(try TinyBert.directory(skip: ["vocab.txt"]), ModelFormatError.self, missing, "no tokenizer")
        check(
            try TinyBert.directory(skip: ["1_Pooling/config.json"]), ModelFormatError.self, missing, "no pooling config"
        )
        check(
            try TinyBert.directory(config: ["hidden_act": "relu"]), ModelFormatError.self, unsupported,
            "relu activation")
        check(
            try TinyBert.directory(config: ["hidden_act": "gelu_new"]), ModelFormatError.self, unsupported, "tanh GELU")
        check(
            try TinyBert.directory(config: ["model_type": "roberta"]), ModelFormatError.self, unsupported,
            "another architecture")
        check(
            try TinyBert.directory(config: ["num_attention_heads": 4]), ModelFormatError.self, unsupported,
            "head dimension 4")
        check(
            try TinyBert.directory(config: ["hidden_size": 32]), ModelFormatError.self,
            { if case .corrupt = $0 { true } else { false } },
            "tensor shapes disagree with the config")
        check(
            try TinyBert.directory(modules: [
                ["path": "", "type": "sentence_transformers.models.Transformer"],
                ["path": "2_Dense", "type": "sentence_transformers.models.Dense"],
            ]),
            ModelFormatError.self, unsupported, "a Dense module")
        check(
            try TinyBert.directory(pooling: ["pooling_mode_lasttoken": true]), ModelFormatError.self, unsupported,
            "last-token pooling")
        check(
            try TinyBert.directory(vocabulary: TinyBert.vocabulary.filter { $0 != "[UNK]" } + ["extra"]),
            TokenizerError.self,
            { if case .invalidVocabulary = $0 { true } else { false } }, "a vocabulary without [UNK]")
        #expect(throws: ModelFormatError.self) {
            _ = try EmbeddingModel(directory: "/nonexistent/clinfer-model", options: .init(backend: .cpu))
        }
        let bad = try TinyBert.directory()
        defer { try? FileManager.default.removeItem(at: bad) }
        try Data("{ not json".utf8).write(to: bad.appendingPathComponent("config.json"))
        #expect(throws: ModelFormatError.self) { try load(bad) }
    }
}
