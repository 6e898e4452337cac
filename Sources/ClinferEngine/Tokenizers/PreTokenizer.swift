/// Splits text into the pieces BPE runs on, as the model's pre-tokenizer regex would.
///
/// The splits are written by hand over Unicode scalars (no regex engine) and follow llama.cpp's
/// hand-written versions of the same regexes, including their lookahead subtleties, so token ids
/// match llama.cpp exactly:
/// - `gpt2`: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// - `smollm`: every `\p{N}` scalar becomes its own piece, then `gpt2` on the text between
/// - `llama3` (`llama-bpe`): `(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// - `qwen2`: `llama3` with single digits (`\p{N}` for `\p{N}{1,3}`)
///
/// `\s+(?!\S)`: a whitespace run followed by a non-space gives all but its last scalar to its own
/// piece (the last one becomes the optional ` ` of the next piece); at the end of the text the
/// run is one piece.
public enum PreTokenizer: String, Sendable, CaseIterable {
    case gpt2
    case smollm
    case llama3
    case qwen2

    /// The pre-tokenizer a GGUF `tokenizer.ggml.pre` name selects, or nil when Clinfer does not
    /// know the name (the tokenizer then uses `gpt2`).
    public init?(preType: String) {
        switch preType {
        case "gpt2", "gpt-2": self = .gpt2
        case "smollm": self = .smollm
        case "llama3", "llama-v3", "llama-bpe": self = .llama3
        case "qwen2": self = .qwen2
        default: return nil
        }
    }

    /// Whether a piece that is itself a vocabulary token skips the merges (llama.cpp's
    /// `ignore_merges`, set for Llama-3 vocabularies).
    var ignoresMerges: Bool { self == .llama3 }

    /// Appends to `ends` the end index of every piece of `scalars[range]`, in order; the pieces
    /// tile the range. `classes` holds `ScalarClass.of` for each scalar.
    func split(_ scalars: [UInt32], _ classes: [UInt8], _ range: Range<Int>, into ends: inout [Int]) {
        switch self {
        case .gpt2:
            Self.splitGPT2(scalars, classes, range.lowerBound, range.upperBound, &ends)
        case .llama3:
            Self.splitLlama3(scalars, classes, range.lowerBound, range.upperBound, digits: 3, &ends)
        case .qwen2:
            Self.splitLlama3(scalars, classes, range.lowerBound, range.upperBound, digits: 1, &ends)
        case .smollm:
            var start = range.lowerBound
            for index in range where classes[index] == ScalarClass.number {
                if index > start { Self.splitGPT2(scalars, classes, start, index, &ends) }
                ends.append(index + 1)
                start = index + 1
            }
            if start < range.upperBound { Self.splitGPT2(scalars, classes, start, range.upperBound, &ends) }
        }
    }

    private static let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20
    private static let cr: UInt32 = 0x0D, lf: UInt32 = 0x0A

    /// Whether `scalar` lowercases (ASCII only) to `letter`.
    @inline(__always)
    private static func isLetter(_ scalar: UInt32, _ letter: Character, caseInsensitive: Bool) -> Bool {
        let lower = letter.asciiValue.map(UInt32.init)!
        return scalar == lower || (caseInsensitive && scalar == lower - 0x20)
    }

    /// Length of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `pos`, or 0.
    @inline(__always)
    private static func contraction(_ scalars: [UInt32], _ pos: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard scalars[pos] == apostrophe, pos + 1 < end else { return 0 }
        let next = scalars[pos + 1]
        for letter: Character in ["s", "t", "m", "d"] where isLetter(next, letter, caseInsensitive: caseInsensitive) {
            return 2
        }
        guard pos + 2 < end else { return 0 }
        let after = scalars[pos + 2]
        for (first, second): (Character, Character) in [("r", "e"), ("v", "e"), ("l", "l")]
        where isLetter(next, first, caseInsensitive: caseInsensitive)
            && isLetter(after, second, caseInsensitive: caseInsensitive)
        {
            return 3
        }
        return 0
    }

    private static func splitGPT2(
        _ scalars: [UInt32], _ classes: [UInt8], _ start: Int, _ end: Int, _ ends: inout [Int]
    ) {
        @inline(__always) func classAt(_ index: Int) -> UInt8 { index < end ? classes[index] : ScalarClass.outside }
        var pos = start
        while pos < end {
            let scalar = scalars[pos], cls = classes[pos]
            let contracted = contraction(scalars, pos, end, caseInsensitive: false)
            if contracted > 0 {
                pos += contracted
                ends.append(pos)
                continue
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: one rule each, same shape.
            let leading = scalar == space ? classAt(pos + 1) : cls
            if leading == ScalarClass.letter || leading == ScalarClass.number || leading == ScalarClass.other {
                if scalar == space { pos += 1 }
                while classAt(pos) == leading { pos += 1 }
                ends.append(pos)
                continue
            }
            var spaces = 0
            while classAt(pos + spaces) == ScalarClass.whitespace { spaces += 1 }
            if spaces > 1 && pos + spaces < end {
                pos += spaces - 1  // \s+(?!\S)
            } else if spaces > 0 {
                pos += spaces  // \s+
            } else {
                pos += 1  // no rule matches
            }
            ends.append(pos)
        }
    }

    private static func splitLlama3(
        _ scalars: [UInt32], _ classes: [UInt8], _ start: Int, _ end: Int, digits: Int, _ ends: inout [Int]
    ) {
        @inline(__always) func classAt(_ index: Int) -> UInt8 { index < end ? classes[index] : ScalarClass.outside }
        @inline(__always) func isNewline(_ index: Int) -> Bool {
            index < end && (scalars[index] == cr || scalars[index] == lf)
        }
        var pos = start
        while pos < end {
            let scalar = scalars[pos], cls = classes[pos]
            let contracted = contraction(scalars, pos, end, caseInsensitive: true)
            if contracted > 0 {
                pos += contracted
                ends.append(pos)
                continue
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(scalar == cr || scalar == lf || cls == ScalarClass.number),
                cls == ScalarClass.letter || classAt(pos + 1) == ScalarClass.letter
            {
                pos += 1
                while classAt(pos) == ScalarClass.letter { pos += 1 }
                ends.append(pos)
                continue
            }
            // \p{N}{1,3} (qwen2: \p{N})
            if cls == ScalarClass.number {
                var run = 0
                while classAt(pos) == ScalarClass.number {
                    pos += 1
                    run += 1
                    if run == digits {
                        ends.append(pos)
                        run = 0
                    }
                }
                if run > 0 { ends.append(pos) }
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            let leading = scalar == space ? classAt(pos + 1) : cls
            if leading == ScalarClass.other {
                if scalar == space { pos += 1 }
                while classAt(pos) == ScalarClass.other { pos += 1 }
                while isNewline(pos) { pos += 1 }
                ends.append(pos)
                continue
            }
            var spaces = 0, afterLastNewline = 0
            while classAt(pos + spaces) == ScalarClass.whitespace {
                if isNewline(pos + spaces) { afterLastNewline = pos + spaces + 1 }
                spaces += 1
            }
            if afterLastNewline > 0 {
                pos = afterLastNewline  // \s*[\r\n]+
            } else if spaces > 1 && pos + spaces < end {
                pos += spaces - 1  // \s+(?!\S)
            } else if spaces > 0 {
                pos += spaces  // \s+
            } else {
                pos += 1  // no rule matches
            }
            ends.append(pos)
        }
    }
}
