import ClinferEngine

// Usage: HelloClinfer MODEL.gguf "question"
let arguments = CommandLine.arguments
let path = arguments.count > 1 ? arguments[1] : "models/SmolLM2-135M-Instruct.Q4_1.gguf"
let question = arguments.count > 2 ? arguments[2] : "What is the capital of France?"

let model = try await LanguageModel.load(path: path)
for try await chunk in model.chat([.user(question)], parameters: .greedy(maxTokens: 64)) {
    print(chunk.text, terminator: "")
    if let stats = chunk.stats {
        print("\n[\(stats.decodeTokens) tokens at \(Int(stats.decodeTokensPerSecond)) tok/s on \(stats.device)]")
    }
}
