import ClinferEngine

/// One token of a response as its `logprobs` report it: the log-probability (nil for a prompt's
/// first token, which has no context), its text and bytes, the alternatives, and where its text
/// starts in the choice's text (characters of the token pieces before it).
struct LoggedToken: Sendable {
    struct Candidate: Sendable {
        var text: String
        var bytes: [UInt8]
        var logprob: Float
    }

    var text: String
    var bytes: [UInt8]
    var logprob: Float?
    var top: [Candidate]
    var offset: Int

    /// `token`'s entry; `logprob` nil for a prompt's first token.
    init(token: Int, logprob: TokenLogprob?, tokenizer: Tokenizer, offset: Int) {
        (text, bytes) = Self.piece(token, tokenizer)
        self.logprob = logprob.map { Self.finite($0.logprob) }
        top = (logprob?.top ?? []).map {
            let (text, bytes) = Self.piece($0.token, tokenizer)
            return Candidate(text: text, bytes: bytes, logprob: Self.finite($0.logprob))
        }
        self.offset = offset
    }

    /// Characters this token adds to the text.
    var length: Int { String(decoding: bytes, as: UTF8.self).count }

    /// Entries for a run of tokens whose text starts at `offset`.
    static func run(_ tokens: [Int], logprobs: [TokenLogprob?], tokenizer: Tokenizer, offset: Int) -> [LoggedToken] {
        var offset = offset
        return zip(tokens, logprobs).map { token, logprob in
            let entry = LoggedToken(token: token, logprob: logprob, tokenizer: tokenizer, offset: offset)
            offset += entry.length
            return entry
        }
    }

    /// A token's text: its decoded bytes, or (a piece of a multi-byte character, invalid UTF-8
    /// alone) `bytes:\xe2\x80` as OpenAI writes it.
    private static func piece(_ token: Int, _ tokenizer: Tokenizer) -> (String, [UInt8]) {
        let bytes = (try? tokenizer.bytes(of: token)) ?? []
        if let text = String(validating: bytes, as: UTF8.self) { return (text, bytes) }
        return ("bytes:" + bytes.map { "\\x" + String($0, radix: 16).leftPadded(to: 2) }.joined(), bytes)
    }

    /// JSON has no −∞: an impossible token reports −9999, as OpenAI does.
    private static func finite(_ value: Float) -> Float { value.isFinite ? value : -9999 }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// A choice's `logprobs`: the legacy completions shape or the chat shape.
enum ChoiceLogprobs: Encodable, Sendable {
    case completion([LoggedToken])
    case chat([LoggedToken])

    private enum CompletionKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }

    private enum ChatKeys: String, CodingKey { case content, refusal }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .completion(let tokens):
            var container = encoder.container(keyedBy: CompletionKeys.self)
            try container.encode(tokens.map(\.text), forKey: .tokens)
            try container.encode(tokens.map(\.logprob), forKey: .tokenLogprobs)
            // Keyed by token text (OpenAI's shape; two tokens with one text keep the likelier).
            let top: [[String: Float]?] = tokens.map { token in
                guard token.logprob != nil else { return nil }
                var alternatives: [String: Float] = [:]
                for candidate in token.top where alternatives[candidate.text] == nil {
                    alternatives[candidate.text] = candidate.logprob
                }
                return alternatives
            }
            try container.encode(top, forKey: .topLogprobs)
            try container.encode(tokens.map(\.offset), forKey: .textOffset)
        case .chat(let tokens):
            var container = encoder.container(keyedBy: ChatKeys.self)
            try container.encode(tokens.map(ChatTokenLogprob.init), forKey: .content)
            try container.encodeNil(forKey: .refusal)
        }
    }
}

/// One element of a chat choice's `logprobs.content`.
private struct ChatTokenLogprob: Encodable {
    struct Top: Encodable {
        var token: String
        var logprob: Float
        var bytes: [UInt8]
    }

    var token: String
    var logprob: Float
    var bytes: [UInt8]
    var topLogprobs: [Top]

    enum CodingKeys: String, CodingKey {
        case token, logprob, bytes
        case topLogprobs = "top_logprobs"
    }

    init(_ entry: LoggedToken) {
        token = entry.text
        logprob = entry.logprob ?? 0
        bytes = entry.bytes
        topLogprobs = entry.top.map { Top(token: $0.text, logprob: $0.logprob, bytes: $0.bytes) }
    }
}
