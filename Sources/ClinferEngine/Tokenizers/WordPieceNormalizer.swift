import Foundation

/// BERT's basic tokenizer as Hugging Face `tokenizers` runs it (`BertNormalizer` then
/// `BertPreTokenizer`), on Unicode scalars:
///
/// 1. clean: drop NUL, U+FFFD and control characters (general category Cc, Cf, Co, Cn; tab,
///    newline and carriage return count as whitespace), turn every whitespace into a space;
/// 2. put spaces around CJK ideographs (the CJK Unified Ideographs blocks BERT lists; kana and
///    hangul are not among them);
/// 3. strip accents: canonical decomposition (NFD), then drop nonspacing marks (Mn);
/// 4. lowercase, scalar by scalar (full Unicode mappings, no context);
/// 5. split on whitespace and isolate each punctuation character (ASCII punctuation and
///    general category P*) as a word of its own.
public struct BertNormalizer: Sendable, Hashable {
    public var cleanText: Bool
    public var handleChineseChars: Bool
    public var stripAccents: Bool
    public var lowercase: Bool

    /// `stripAccents` defaults to `lowercase`, as BERT's uncased models expect.
    public init(
        cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true
    ) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    /// The normalized text (steps 1–4).
    public func normalize(_ text: Substring) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var ascii = true
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x80 { ascii = false }
            if cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
                if Self.isWhitespace(scalar) { scalars.append(" "); continue }
            }
            if handleChineseChars && Self.isChineseChar(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        if stripAccents && !ascii {
            var string = String.UnicodeScalarView()
            string.append(contentsOf: scalars)
            scalars = String(string).decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(scalars.count)
            for scalar in scalars {
                if scalar.value < 0x80 {
                    lowered.append(
                        scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(scalar.value + 0x20)! : scalar)
                } else {
                    lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        return scalars
    }

    /// Splits normalized text into words (step 5).
    public static func preTokenize(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start: Int? = nil
        for (index, scalar) in scalars.enumerated() {
            if isWhitespace(scalar) {
                if let first = start { words.append(scalars[first..<index]) }
                start = nil
            } else if isPunctuation(scalar) {
                if let first = start { words.append(scalars[first..<index]) }
                words.append(scalars[index..<index + 1])
                start = nil
            } else if start == nil {
                start = index
            }
        }
        if let first = start { words.append(scalars[first...]) }
        return words
    }

    /// The Unicode White_Space property, tab, newline and carriage return included.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x09, 0x0A, 0x0D: true
        case 0..<0x80: scalar.value == 0x0B || scalar.value == 0x0C
        default: scalar.properties.isWhitespace
        }
    }

    /// General category Cc, Cf, Co or Cn (surrogates cannot occur in a Swift string), except
    /// tab, newline and carriage return.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0..<0x20, 0x7F: return true
        case 0x20..<0x7F: return false
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .privateUse, .unassigned, .surrogate: return true
            default: return false
            }
        }
    }

    /// ASCII punctuation (every printable non-alphanumeric ASCII character) or category P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        case 0..<0x80: return false
        default:
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
                .finalPunctuation, .otherPunctuation:
                return true
            default: return false
            }
        }
    }

    /// The CJK ideograph blocks of BERT's `_is_chinese_char`, as Hugging Face `tokenizers` has
    /// them (its Extension E range starts at U+2B920, not U+2B820: U+2B820…U+2B91F stay inside words).
    static func isChineseChar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            true
        default: false
        }
    }
}
