import Testing

@testable import ClinferEngine

/// Tokenizer on tiny hand-built vocabularies: merge order, bytes, special tokens, decoding.
@Suite("Tokenizer: byte-level BPE")
struct TokenizerTests {
    @Test("GPT-2 byte mapping: printable bytes stay, the rest move to U+0100 and up")
    func byteMapping() {
        #expect(ByteLevel.scalarForByte[0x21] == "!")
        #expect(ByteLevel.scalarForByte[0x20] == "Ġ")
        #expect(ByteLevel.scalarForByte[0x0A] == "Ċ")
        #expect(ByteLevel.scalarForByte[0x00] == "\u{100}")
        #expect(ByteLevel.scalarForByte[0xAD] == "\u{143}")
        #expect(Set(ByteLevel.scalarForByte).count == 256)
        for byte in 0...255 { #expect(ByteLevel.decode(ByteLevel.encode([UInt8(byte)])) == [UInt8(byte)]) }
    }

    @Test("lower-ranked merges apply first; ties go to the leftmost pair")
    func mergeOrder() throws {
        let abFirst = TinyVocabulary(merges: ["a b", "b c"])
        #expect(try abFirst.tokenizer().encode("abc") == [abFirst.id("ab"), abFirst.id("c")])
        let bcFirst = TinyVocabulary(merges: ["b c", "a b"])
        #expect(try bcFirst.tokenizer().encode("abc") == [bcFirst.id("a"), bcFirst.id("bc")])
        let pairs = TinyVocabulary(merges: ["a a"])
        #expect(try pairs.tokenizer().encode("aaa") == [pairs.id("aa"), pairs.id("a")])
        #expect(try pairs.tokenizer().encode("aaaa") == [pairs.id("aa"), pairs.id("aa")])
    }

    @Test("merges chain into whole words; pieces never merge across a split")
    func chains() throws {
        let vocab = TinyVocabulary(merges: ["h e", "l l", "he ll", "hell o", "Ġ hello", "Ġ w", "o r"])
        let tokenizer = try vocab.tokenizer()
        #expect(tokenizer.encode("hello") == [vocab.id("hello")])
        #expect(tokenizer.encode("hello hello") == [vocab.id("hello"), vocab.id("Ġhello")])
        #expect(tokenizer.encode(" world") == [vocab.id("Ġw"), vocab.id("or"), vocab.id("l"), vocab.id("d")])
        #expect(tokenizer.encode("hello,hello") == [vocab.id("hello"), vocab.id(","), vocab.id("hello")])
        // A long piece (one run of 10 000 letters) stays correct and fast.
        #expect(tokenizer.encode(String(repeating: "ll", count: 5000)) == Array(repeating: vocab.id("ll"), count: 5000))
    }

    @Test("a merge whose result is not a token falls back to byte tokens")
    func mergeResultMissing() throws {
        let tiny = TinyVocabulary()
        let tokenizer = try Tokenizer(vocabulary: TokenizerVocabulary(tokens: tiny.tokens, merges: ["a b"]))
        #expect(tokenizer.encode("ab") == [tiny.id("a"), tiny.id("b")])
    }

    @Test("bytes without a token are dropped, as llama.cpp drops them")
    func missingByteToken() throws {
        let tiny = TinyVocabulary()
        let tokenizer = try Tokenizer(
            vocabulary: TokenizerVocabulary(tokens: tiny.tokens.filter { $0 != "\u{104}" }, merges: ["Ą a"]))
        #expect(try tokenizer.decode(tokenizer.encode("a\u{4}b\u{4}\u{4}")) == "ab")
        #expect(try tokenizer.decode(tokenizer.encode("\u{4}a")) == "a")
    }

    @Test("every byte value round-trips through its byte token")
    func everyByte() throws {
        let vocab = TinyVocabulary()
        let tokenizer = try vocab.tokenizer()
        let text = String(String.UnicodeScalarView((0...255).map { Unicode.Scalar(UInt8($0)) })) + "€😀日本\u{10FFFF}"
        let ids = tokenizer.encode(text, parseSpecial: false)
        #expect(ids == text.utf8.map(vocab.byteID))
        #expect(try tokenizer.decode(ids) == text)
        for byte in 0...255 {
            var bytes: [UInt8] = []
            try tokenizer.appendBytes(of: vocab.byteID(UInt8(byte)), skipSpecial: false, to: &bytes)
            #expect(bytes == [UInt8(byte)])
        }
    }

    @Test("special tokens are matched before BPE, longest first")
    func specials() throws {
        let vocab = TinyVocabulary(merges: ["u s", "us e", "use r"])
        let tokenizer = try vocab.tokenizer()
        let text = "<|im_start|>user\nhi<|im_end|>"
        #expect(
            tokenizer.encode(text) == [
                1, vocab.id("user"), vocab.byteID(0x0A), vocab.byteID(0x68), vocab.byteID(0x69), 2,
            ])
        let spelled = tokenizer.encode(text, parseSpecial: false)
        #expect(!spelled.contains(1) && !spelled.contains(2))
        #expect(try tokenizer.decode(spelled) == text)
        #expect(tokenizer.encode("<|im_start|<|im_end|>>").filter { $0 < 3 } == [2])
        #expect(tokenizer.id(of: "<|im_end|>") == 2)
        #expect(tokenizer.id(of: "user") == nil)
    }

    @Test("longer special tokens claim text first, as in llama.cpp")
    func specialPriority() throws {
        let vocab = TinyVocabulary(extraTokens: ["<a>", "<a>b", "xy", "yzw"])
        let count = vocab.tokens.count
        let types = vocab.tokens.indices.map {
            $0 < 3 || $0 >= count - 4 ? TokenType.control.rawValue : TokenType.normal.rawValue
        }
        let tokenizer = try Tokenizer(vocabulary: vocab.vocabulary(types: types))
        #expect(tokenizer.encode("<a>bc") == [vocab.id("<a>b"), vocab.id("c")])
        #expect(tokenizer.encode("<a><a>") == [vocab.id("<a>"), vocab.id("<a>")])
        #expect(tokenizer.encode("xyzw") == [vocab.id("x"), vocab.id("yzw")])
    }

    @Test("user-defined tokens are matched even without special parsing")
    func userDefined() throws {
        let vocab = TinyVocabulary(extraTokens: ["<tool>"])
        let types = vocab.tokens.indices.map { $0 < 3 ? 3 : $0 == vocab.tokens.count - 1 ? 4 : 1 }
        let tokenizer = try Tokenizer(vocabulary: vocab.vocabulary(types: types))
        #expect(tokenizer.encode("a<tool>", parseSpecial: false) == [vocab.id("a"), vocab.id("<tool>")])
        #expect(try tokenizer.decode([vocab.id("<tool>")], skipSpecial: true) == "<tool>")
    }

    @Test("BOS follows addBOS unless told otherwise")
    func bos() throws {
        let vocab = TinyVocabulary()
        let off = try Tokenizer(vocabulary: vocab.vocabulary(addBOS: false))
        let on = try Tokenizer(vocabulary: vocab.vocabulary(addBOS: true))
        #expect(off.encode("a") == [vocab.id("a")])
        #expect(off.encode("a", addSpecialPrefix: true) == [1, vocab.id("a")])
        #expect(on.encode("a") == [1, vocab.id("a")])
        #expect(on.encode("a", addSpecialPrefix: false) == [vocab.id("a")])
        #expect(on.encode("") == [1])
        #expect(off.encode("").isEmpty)
    }

    @Test("decoding: control tokens as text unless skipped; unknown ids throw")
    func decoding() throws {
        let vocab = TinyVocabulary(merges: ["Ġ w"])
        let tokenizer = try vocab.tokenizer()
        #expect(try tokenizer.decode([1, vocab.id("Ġw"), 2]) == "<|im_start|> w<|im_end|>")
        #expect(try tokenizer.decode([1, vocab.id("Ġw"), 2], skipSpecial: true) == " w")
        #expect(throws: TokenizerError.unknownToken(-1)) { try tokenizer.decode([-1]) }
        #expect(throws: TokenizerError.unknownToken(vocab.tokens.count)) {
            try tokenizer.decode([0, vocab.tokens.count])
        }
        #expect(tokenizer.tokenText(1) == "<|im_start|>")
        #expect(tokenizer.tokenText(-3) == nil)
        #expect(tokenizer.tokenType(2) == .control)
        #expect(tokenizer.vocabularySize == vocab.tokens.count)
        #expect(TokenizerError.unknownToken(7).description.contains("7"))
    }

    @Test("streaming decoder holds back split characters and matches decode")
    func streaming() throws {
        let vocab = TinyVocabulary(merges: ["a b"])
        let tokenizer = try vocab.tokenizer()
        var decoder = tokenizer.streamingDecoder()
        let emoji = Array("😀".utf8)
        #expect(try emoji.map { try decoder.append(vocab.byteID($0)) } == ["", "", "", "😀"])

        let text = "ab😀é日本\u{10FFFF}<|im_end|>x"
        let ids = tokenizer.encode(text)
        var pieces: [String] = []
        for id in ids { pieces.append(try decoder.append(id)) }
        pieces.append(decoder.flush())
        #expect(pieces.joined() == text)
        #expect(!pieces.joined().contains("\u{FFFD}"))

        var skipping = tokenizer.streamingDecoder(skipSpecial: true)
        #expect(try skipping.append(2) == "")
        #expect(try skipping.append(vocab.id("ab")) == "ab")
    }

    @Test("streaming decoder: truncated and invalid sequences")
    func streamingInvalid() throws {
        let vocab = TinyVocabulary()
        var decoder = try vocab.tokenizer().streamingDecoder()
        #expect(try decoder.append(vocab.byteID(0xF0)) == "")
        #expect(decoder.flush() == "\u{FFFD}")
        #expect(decoder.flush() == "")
        #expect(try decoder.append(vocab.byteID(0x80)) == "\u{FFFD}")  // never completes: not held
        #expect(try decoder.append(vocab.byteID(0xE2)) == "")
        #expect(try decoder.append(vocab.byteID(0x41)) == "\u{FFFD}A")
        #expect(throws: TokenizerError.unknownToken(99_999)) { try decoder.append(99_999) }

        #expect(StreamingDecoder.incompleteSuffixLength([0x41, 0xE0, 0xA0]) == 2)
        #expect(StreamingDecoder.incompleteSuffixLength([0xE0, 0x80]) == 0)  // overlong
        #expect(StreamingDecoder.incompleteSuffixLength([0xED, 0xA0]) == 0)  // surrogate
        #expect(StreamingDecoder.incompleteSuffixLength([0xF4, 0x90]) == 0)  // past U+10FFFF
        #expect(StreamingDecoder.incompleteSuffixLength([0xF0, 0x9F, 0x98]) == 3)
        #expect(StreamingDecoder.incompleteSuffixLength([0xF0, 0x9F, 0x98, 0x80]) == 0)
        #expect(StreamingDecoder.incompleteSuffixLength([0xC0]) == 0)
        #expect(StreamingDecoder.incompleteSuffixLength([]) == 0)
    }

    @Test("inconsistent vocabularies throw typed errors")
    func invalidVocabularies() {
        let tiny = TinyVocabulary()
        func rejects(
            _ vocabulary: TokenizerVocabulary, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            do {
                _ = try Tokenizer(vocabulary: vocabulary)
                Issue.record("accepted; expected an error mentioning '\(fragment)'", sourceLocation: sourceLocation)
            } catch {
                guard case .invalidVocabulary(let detail) = error else {
                    Issue.record("wrong error \(error)", sourceLocation: sourceLocation)
                    return
                }
                #expect(detail.contains(fragment), "\(detail)", sourceLocation: sourceLocation)
            }
        }
        rejects(TokenizerVocabulary(tokens: tiny.tokens, merges: ["ab"]), "merge 0")
        rejects(TokenizerVocabulary(tokens: tiny.tokens, merges: [], tokenTypes: [1, 1]), "token types")
        rejects(
            TokenizerVocabulary(tokens: tiny.tokens, merges: [], tokenTypes: tiny.tokens.map { _ in 9 }),
            "unknown type 9")
        rejects(TokenizerVocabulary(tokens: tiny.tokens, merges: [], bosID: 100_000), "BOS id")
        rejects(TokenizerVocabulary(tokens: tiny.tokens, merges: [], addBOS: true), "no BOS")
    }

    @Test("an unknown pre-tokenizer name is an error naming it, never a fallback")
    func unknownPreType() throws {
        #expect(
            throws: TokenizerError.unsupported(
                "pre-tokenizer 'mystery' (Clinfer implements gpt2, smollm, llama3, qwen2 and 'default')")
        ) { try Tokenizer(vocabulary: TinyVocabulary().vocabulary(preType: "mystery")) }
        #expect(try Tokenizer(vocabulary: TinyVocabulary().vocabulary(preType: "default")).preTokenizer == .gpt2)
    }

    @Test("llama3 vocabularies take a whole-piece token over merges")
    func ignoreMerges() throws {
        let vocab = TinyVocabulary(merges: ["a b", "b c"], extraTokens: ["abc"])
        let gpt2 = try vocab.tokenizer(preType: "gpt2"), llama3 = try vocab.tokenizer(preType: "llama-bpe")
        #expect(gpt2.encode("abc") == [vocab.id("ab"), vocab.id("c")])
        #expect(llama3.encode("abc") == [vocab.id("abc")])
    }
}
