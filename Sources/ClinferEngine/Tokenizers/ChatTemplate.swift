/// Renders a conversation into the prompt text a chat model was trained on.
///
/// GGUF files carry a Jinja template (`tokenizer.chat_template`). Rather than embed a Jinja
/// interpreter, Clinfer recognises the template families it loads and renders them natively,
/// producing exactly what Jinja renders for messages with string content:
/// - ChatML (`<|im_start|>`): `<|im_start|>{role}\n{content}<|im_end|>\n` per message. A default
///   system prompt written in the template as a literal (`'<|im_start|>system\n…<|im_end|>\n'`,
///   e.g. SmolLM2's "You are a helpful AI assistant named SmolLM, trained by Hugging Face") is
///   read from the template and put first when the first message is not a system message.
/// - Llama 3 (`<|start_header_id|>`): BOS text, then
///   `<|start_header_id|>{role}<|end_header_id|>\n\n{content, trimmed}<|eot_id|>` per message.
/// - Plain, only when the model has no template: `{role}: {content}\n` per message.
///
/// Any other template throws `TokenizerError.unsupportedChatTemplate` rather than render a
/// prompt the model was not trained on.
public struct ChatTemplate: Sendable, Equatable {
    /// The recognised family and what rendering needs from the template.
    public enum Format: Sendable, Equatable {
        case chatML(defaultSystemPrompt: String?)
        case llama3(bosToken: String)
        case plain
    }

    /// How messages are rendered.
    public let format: Format
    /// The template text it was recognised from; nil for the plain fallback.
    public let source: String?

    /// Recognises `source` (nil or empty: no template, so plain).
    ///
    /// - Parameter bosToken: the text of the BOS token, for templates that write `bos_token`.
    public init(source: String?, bosToken: String = "") throws(TokenizerError) {
        guard let source, !source.isEmpty else {
            self.format = .plain
            self.source = nil
            return
        }
        if source.contains("<|im_start|>") {
            format = .chatML(defaultSystemPrompt: Self.defaultChatMLSystemPrompt(in: source))
        } else if source.contains("<|start_header_id|>") {
            format = .llama3(bosToken: source.contains("bos_token") ? bosToken : "")
        } else {
            throw .unsupportedChatTemplate(String(source.prefix(80)))
        }
        self.source = source
    }

    /// The text that ends a turn, a stop string for generation (nil for plain).
    public var endOfTurn: String? {
        switch format {
        case .chatML: "<|im_end|>"
        case .llama3: "<|eot_id|>"
        case .plain: nil
        }
    }

    /// The prompt for `messages`; with `addGenerationPrompt` it ends with the header that
    /// starts the assistant's reply.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        renderPrompt(messages, addGenerationPrompt: addGenerationPrompt).text
    }

    /// The prompt for `messages` with the template's own markup told apart from message content,
    /// so that only the markup may become control tokens (see ``Tokenizer/encode(_:)``).
    public func renderPrompt(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> RenderedPrompt {
        var prompt = RenderedPrompt()
        switch format {
        case .chatML(let defaultSystemPrompt):
            if let defaultSystemPrompt, let first = messages.first, first.role != "system" {
                prompt.markup("<|im_start|>system\n\(defaultSystemPrompt)<|im_end|>\n")
            }
            for message in messages {
                prompt.markup("<|im_start|>")
                prompt.content(message.role)
                prompt.markup("\n")
                prompt.content(message.content)
                prompt.markup("<|im_end|>\n")
            }
            if addGenerationPrompt { prompt.markup("<|im_start|>assistant\n") }
        case .llama3(let bosToken):
            if !messages.isEmpty { prompt.markup(bosToken) }
            for message in messages {
                prompt.markup("<|start_header_id|>")
                prompt.content(message.role)
                prompt.markup("<|end_header_id|>\n\n")
                prompt.content(Self.jinjaTrim(message.content))
                prompt.markup("<|eot_id|>")
            }
            if addGenerationPrompt { prompt.markup("<|start_header_id|>assistant<|end_header_id|>\n\n") }
        case .plain:
            for message in messages {
                prompt.content(message.role)
                prompt.markup(": ")
                prompt.content(message.content)
                prompt.markup("\n")
            }
            if addGenerationPrompt { prompt.markup("assistant:") }
        }
        return prompt
    }

    /// The default system prompt a ChatML template writes as a string literal
    /// `'<|im_start|>system\n…<|im_end|>…'` (not the one built from the first message's content).
    static func defaultChatMLSystemPrompt(in source: String) -> String? {
        let characters = Array(source)
        let marker = Array("<|im_start|>system")
        var index = 1
        while index + marker.count <= characters.count {
            defer { index += 1 }
            let quote = characters[index - 1]
            guard quote == "'" || quote == "\"", characters[index..<(index + marker.count)].elementsEqual(marker),
                let literal = jinjaStringLiteral(characters, openingQuoteAt: index - 1)
            else { continue }
            let prefix = "<|im_start|>system\n"
            guard literal.hasPrefix(prefix), let end = literal.range(of: "<|im_end|>") else { continue }
            let prompt = literal[literal.index(literal.startIndex, offsetBy: prefix.count)..<end.lowerBound]
            if !prompt.isEmpty { return String(prompt) }
        }
        return nil
    }

    /// The value of the Jinja string literal whose opening quote is at `open`, escapes resolved;
    /// nil when it is not closed.
    private static func jinjaStringLiteral(_ characters: [Character], openingQuoteAt open: Int) -> String? {
        let quote = characters[open]
        var value = "", index = open + 1
        while index < characters.count {
            let character = characters[index]
            if character == quote { return value }
            if character == "\\", index + 1 < characters.count {
                index += 1
                switch characters[index] {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "r": value.append("\r")
                default: value.append(characters[index])
                }
            } else {
                value.append(character)
            }
            index += 1
        }
        return nil
    }

    /// Jinja's `trim` filter: Python's `str.strip()`, which strips Unicode White_Space and
    /// U+001C–U+001F.
    static func jinjaTrim(_ text: String) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[first...last])
    }
}
