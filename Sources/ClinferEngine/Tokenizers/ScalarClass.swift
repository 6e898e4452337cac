/// The character classes the pre-tokenizer regexes test: `\p{L}`, `\p{N}`, `\s`, and the rest.
///
/// Exactly one class per scalar, stored as one byte so the split loops compare small integers.
/// `outside` (0) marks a position past the end of the text being split, where a regex
/// lookahead sees nothing.
enum ScalarClass {
    static let outside: UInt8 = 0
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let whitespace: UInt8 = 3
    static let other: UInt8 = 4

    /// Classes of the ASCII range, looked up without touching the Unicode tables.
    private static let ascii: [UInt8] = (0..<128).map { value -> UInt8 in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: letter
        case 0x30...0x39: number
        case 0x09...0x0D, 0x20: whitespace
        default: other
        }
    }

    /// The class of `value`: general category L* (letter), N* (number), the Unicode White_Space
    /// property (whitespace, as llama.cpp's table), anything else, unassigned included (other).
    @inline(__always)
    static func of(_ value: UInt32) -> UInt8 {
        if value < 128 { return ascii[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return other }
        let properties = scalar.properties
        if properties.isWhitespace { return whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return letter
        case .decimalNumber, .letterNumber, .otherNumber: return number
        default: return other
        }
    }
}
