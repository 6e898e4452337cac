import ArgumentParser
import ClinferEngine
import Foundation

/// `clinfer perplexity`: exp(mean negative log-likelihood) of a text file over windows of
/// `--context` tokens (the second half of each window is scored, as llama.cpp does), the usual
/// way to compare quantizations of one model.
struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity", abstract: "Perplexity of a text file under the model.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Text file to score.")
    var file: String

    @Option(name: .customLong("window"), help: "Tokens per window.")
    var window = 512

    @Option(name: .long, help: "Score at most this many windows (0: all).")
    var maxWindows = 0

    func run() throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("cannot read \(file) as UTF-8 text")
        }
        let model = try modelOptions.load()
        let tokens = model.tokenizer.encode(text)
        let size = min(window, model.contextLength)
        guard size >= 4, tokens.count >= size else {
            throw ValidationError("need at least \(size) tokens, the file has \(tokens.count)")
        }
        var total = 0.0, counted = 0, windows = 0
        for start in stride(from: 0, through: tokens.count - size, by: size) {
            if maxWindows > 0 && windows == maxWindows { break }
            let part = Array(tokens[start..<start + size])
            let logits = try model.logits(tokens: part)
            for position in (size / 2)..<(size - 1) {
                total -= logSoftmax(logits[position], at: part[position + 1])
                counted += 1
            }
            windows += 1
            progress("window \(windows): perplexity so far \(format(exp(total / Double(counted)), 4))")
        }
        print(
            "perplexity: \(format(exp(total / Double(counted)), 4)) over \(counted) tokens in \(windows) windows of \(size)"
        )
    }

    private func logSoftmax(_ logits: [Float], at index: Int) -> Double {
        let top = Double(logits.max() ?? 0)
        let sum = logits.reduce(0.0) { $0 + exp(Double($1) - top) }
        return Double(logits[index]) - top - log(sum)
    }
}
