import ArgumentParser
import ClinferEngine
import Foundation

/// `clinfer tokenize TEXT`: a model's token ids for TEXT as a JSON array, for checking the
/// tokenizer against llama.cpp (`llama-tokenize --ids`) and for scripts.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of TEXT as a JSON array.",
        discussion: """
            Special tokens written in the text (<|im_start|>, <|im_end|>, ...) become their ids \
            unless --no-special; BOS is added only with --bos. The model's metadata is read, not \
            its weights.
            """)

    @Option(help: "GGUF model file whose tokenizer to use.")
    var model: String = ModelOptions.defaultModel

    @Flag(name: .customLong("no-special"), help: "Spell special tokens out as ordinary text.")
    var noSpecial = false

    @Flag(help: "Prepend the model's BOS token.")
    var bos = false

    @Option(help: "Read the text from this file ('-' for standard input) instead of TEXT.")
    var file: String?

    @Argument(help: "The text to tokenize.")
    var text: String?

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("give either TEXT or --file") }
    }

    func run() throws {
        let input = try text ?? readInput(file!)
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: model))
        let ids = tokenizer.encode(input, addSpecialPrefix: bos, parseSpecial: !noSpecial)
        print("[" + ids.map(String.init).joined(separator: ", ") + "]")
    }

    private func readInput(_ path: String) throws -> String {
        let data =
            path == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(path) is not UTF-8 text") }
        return text
    }
}
