/// GPT-2's reversible mapping between the 256 byte values and printable Unicode characters
/// (`bytes_to_unicode` in GPT-2's encoder.py).
///
/// Byte-level BPE vocabularies store every token as the characters this mapping gives for its
/// bytes, so that no token text contains whitespace or control characters: printable Latin-1
/// bytes map to themselves, the other 68 bytes to U+0100 and up (space becomes `Ġ`, newline `Ċ`).
enum ByteLevel {
    /// The character that stands for each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var printable = Array(UInt32(0x21)...0x7E) + Array(UInt32(0xA1)...0xAC) + Array(UInt32(0xAE)...0xFF)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for value in printable { table[Int(value)] = Unicode.Scalar(value)! }
        var next: UInt32 = 256
        for byte in 0..<256 where !printable.contains(UInt32(byte)) {
            table[byte] = Unicode.Scalar(next)!
            next += 1
            printable.append(UInt32(byte))
        }
        return table
    }()

    /// The byte each mapped character stands for, indexed by scalar value; -1 where none.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The token text that spells `bytes`.
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalarForByte[Int(byte)]) }
        return String(text)
    }

    /// The bytes a token text spells. Characters outside the mapping (text that was never
    /// byte-encoded) pass through as their own UTF-8.
    static func decode(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let value = Int(scalar.value)
            if value < byteForScalar.count, byteForScalar[value] >= 0 {
                bytes.append(UInt8(byteForScalar[value]))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }
}
