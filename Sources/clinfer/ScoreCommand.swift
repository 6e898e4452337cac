import ArgumentParser
import ClinferEngine
import Foundation

/// `clinfer score`: teacher-forced logits of every position of a token sequence, as JSON, for
/// debugging and parity checks against other runtimes; with `--logprobs`, each token's
/// log-probability given the ones before it (what the server's `echo` + `logprobs` report).
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Print each position's logits (or top-k) for given token ids.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Token ids as a JSON array, e.g. [1, 504, 3]")
    var tokens: String

    @Option(name: .long, help: "Print only each position's top K ids and logits.")
    var topK: Int?

    @Flag(name: .long, help: "Print each token's log-probability given those before it (the first is null).")
    var logprobs = false

    @Flag(name: .long, help: "JSON output (the only format; accepted for clarity).")
    var json = false

    func run() throws {
        guard let ids = try? JSONDecoder().decode([Int].self, from: Data(tokens.utf8)), !ids.isEmpty else {
            throw ValidationError("--tokens must be a non-empty JSON array of integers")
        }
        let model = try modelOptions.load()
        let rows = try model.logits(tokens: ids)
        if logprobs {
            let values: [Any] =
                [NSNull()]
                + zip(rows, ids.dropFirst()).map { row, next in
                    Double(TokenLogprob(token: next, logits: row, top: 0).logprob) as Any
                }
            let data = try JSONSerialization.data(withJSONObject: ["tokens": ids, "logprobs": values])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let positions: [[String: [Double]]] = rows.map { logits in
            guard let k = topK else { return ["logits": logits.map(Double.init)] }
            let top = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(max(1, k))
            return ["ids": top.map(Double.init), "logits": top.map { Double(logits[$0]) }]
        }
        let data = try JSONSerialization.data(withJSONObject: ["tokens": ids, "positions": positions])
        print(String(decoding: data, as: UTF8.self))
    }
}
