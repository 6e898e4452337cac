import Testing

@testable import ClinferEngine

/// The hand-written splits against what the pre-tokenizer regexes match (worked out by hand,
/// including `\s+(?!\S)` backtracking and llama.cpp's end-of-text lookahead).
@Suite("Tokenizer: pre-tokenizer splits")
struct TokenizerPreTokenizerTests {
    func pieces(_ text: String, _ preTokenizer: PreTokenizer) -> [String] {
        let scalars = text.unicodeScalars.map(\.value)
        var ends: [Int] = []
        preTokenizer.split(scalars, scalars.map(ScalarClass.of), 0..<scalars.count, into: &ends)
        var start = 0
        return ends.map { end in
            defer { start = end }
            return String(String.UnicodeScalarView(scalars[start..<end].map { Unicode.Scalar($0)! }))
        }
    }

    @Test("gpt2: words, numbers, punctuation, contractions")
    func gpt2Words() {
        #expect(pieces("Hello, world!", .gpt2) == ["Hello", ",", " world", "!"])
        #expect(
            pieces("it's we'll they've I'd 'x", .gpt2) == [
                "it", "'s", " we", "'ll", " they", "'ve", " I", "'d", " '", "x",
            ])
        #expect(pieces("IT'S", .gpt2) == ["IT", "'", "S"])
        #expect(pieces("abc 123 4.5", .gpt2) == ["abc", " 123", " 4", ".", "5"])
        #expect(pieces("f(x) -> y", .gpt2) == ["f", "(", "x", ")", " ->", " y"])
    }

    @Test("gpt2: whitespace runs give their last space to the next word")
    func gpt2Whitespace() {
        #expect(pieces("a  b", .gpt2) == ["a", " ", " b"])
        #expect(pieces("a    b", .gpt2) == ["a", "   ", " b"])
        #expect(pieces("a\n\nb", .gpt2) == ["a", "\n", "\n", "b"])
        #expect(pieces("a \n b", .gpt2) == ["a", " \n", " b"])
        #expect(pieces("x   ", .gpt2) == ["x", "   "])
        #expect(pieces("   ", .gpt2) == ["   "])
        #expect(pieces(" ", .gpt2) == [" "])
        #expect(pieces("  !", .gpt2) == [" ", " !"])
        #expect(pieces("a\tb", .gpt2) == ["a", "\t", "b"])
    }

    @Test("gpt2: Unicode letters, numbers, symbols and spaces")
    func gpt2Unicode() {
        #expect(pieces("héllo wörld", .gpt2) == ["héllo", " wörld"])
        #expect(pieces("日本語 テキスト", .gpt2) == ["日本語", " テキスト"])
        #expect(pieces("😀🎉 ok", .gpt2) == ["😀🎉", " ok"])
        #expect(pieces("½²Ⅻ٣", .gpt2) == ["½²Ⅻ٣"])
        #expect(pieces("e\u{301}", .gpt2) == ["e", "\u{301}"])
        #expect(pieces("a\u{A0}\u{A0}b", .gpt2) == ["a", "\u{A0}", "\u{A0}", "b"])  // only U+0020 prefixes a word
    }

    @Test("smollm: every number scalar alone, gpt2 in between")
    func smollm() {
        #expect(pieces("abc 123", .smollm) == ["abc", " ", "1", "2", "3"])
        #expect(pieces("x1y", .smollm) == ["x", "1", "y"])
        #expect(pieces("3.14", .smollm) == ["3", ".", "1", "4"])
        #expect(pieces("½ ٣", .smollm) == ["½", " ", "٣"])
        #expect(pieces("a  1", .smollm) == ["a", "  ", "1"])
    }

    @Test("llama3: case-insensitive contractions, 3-digit groups, newline runs")
    func llama3() {
        #expect(pieces("IT'S it's", .llama3) == ["IT", "'S", " it", "'s"])
        #expect(pieces("12345 67", .llama3) == ["123", "45", " ", "67"])
        #expect(pieces("hello\n\nworld", .llama3) == ["hello", "\n\n", "world"])
        #expect(pieces("a.\n\nb", .llama3) == ["a", ".\n\n", "b"])
        #expect(pieces("  \n  x", .llama3) == ["  \n", " ", " x"])
        #expect(pieces("(word) !x", .llama3) == ["(word", ")", " !", "x"])
        #expect(pieces("\tx", .llama3) == ["\tx"])
        #expect(pieces("x  ", .llama3) == ["x", "  "])
    }

    @Test("qwen2: llama3's split with single digits (pieces from Python's regex module on its pattern)")
    func qwen2() {
        #expect(pieces("12345 67", .qwen2) == ["1", "2", "3", "4", "5", " ", "6", "7"])
        #expect(pieces("IT'S it's", .qwen2) == ["IT", "'S", " it", "'s"])
        #expect(pieces("hello\n\nworld", .qwen2) == ["hello", "\n\n", "world"])
        #expect(pieces("x = 3.14;  y", .qwen2) == ["x", " =", " ", "3", ".", "1", "4", ";", " ", " y"])
        #expect(pieces("año 2024: ¡hola!", .qwen2) == ["año", " ", "2", "0", "2", "4", ":", " ¡", "hola", "!"])
        #expect(PreTokenizer(preType: "qwen2") == .qwen2)
    }

    @Test("pre-tokenizer names")
    func names() {
        #expect(PreTokenizer(preType: "smollm") == .smollm)
        #expect(PreTokenizer(preType: "llama-bpe") == .llama3)
        #expect(PreTokenizer(preType: "gpt2") == .gpt2)
        #expect(PreTokenizer(preType: "qwen2") == .qwen2 && PreTokenizer(preType: "mystery") == nil)
    }
}
