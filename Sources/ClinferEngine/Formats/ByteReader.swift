/// A cursor over a file's bytes that reads little-endian values and length-prefixed strings.
///
/// Every read is checked against the end of the buffer first; running past it throws
/// `ModelFormatError.corrupt` naming what was being read and where, so a truncated or corrupt
/// file can never cause an out-of-bounds read.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    /// The offset of the next read, from the start of the file.
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, path: String, offset: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.offset = offset
    }

    /// Bytes left after the cursor.
    var remaining: Int { bytes.count - offset }

    /// A corrupt-file error naming the file.
    func corrupt(_ detail: String) -> ModelFormatError { .corrupt(path: path, detail: detail) }

    /// Throws unless `count` more bytes exist.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws(ModelFormatError) {
        guard count >= 0, count <= remaining else {
            throw corrupt("\(what()) at offset \(offset) needs \(count) bytes, only \(remaining) left")
        }
    }

    /// Reads a fixed-width little-endian integer.
    mutating func integer<T: FixedWidthInteger>(
        _ type: T.Type, _ what: @autoclosure () -> String
    ) throws(ModelFormatError) -> T {
        let size = MemoryLayout<T>.size
        try require(size, what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    mutating func uint8(_ what: @autoclosure () -> String) throws(ModelFormatError) -> UInt8 {
        try integer(UInt8.self, what())
    }
    mutating func uint32(_ what: @autoclosure () -> String) throws(ModelFormatError) -> UInt32 {
        try integer(UInt32.self, what())
    }
    mutating func uint64(_ what: @autoclosure () -> String) throws(ModelFormatError) -> UInt64 {
        try integer(UInt64.self, what())
    }

    /// Reads an unsigned 64-bit count or length and checks it is no larger than `limit`
    /// (typically what the remaining bytes could hold), so a corrupt value never leads to a huge
    /// allocation or an overflowing size computation.
    mutating func count(_ what: @autoclosure () -> String, atMost limit: Int) throws(ModelFormatError) -> Int {
        let start = offset
        let raw = try uint64(what())
        guard raw <= UInt64(max(0, limit)) else {
            throw corrupt("\(what()) \(raw) at offset \(start) is more than the \(remaining) bytes left can hold")
        }
        return Int(raw)
    }

    /// Reads a GGUF string: a UInt64 byte length, then that many UTF-8 bytes. Invalid UTF-8 is
    /// repaired with U+FFFD rather than rejected (the reader never fails on text content).
    mutating func string(_ what: @autoclosure () -> String) throws(ModelFormatError) -> String {
        let length = try count("\(what()) length", atMost: remaining - 8)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]), as: UTF8.self)
        offset += length
        return text
    }

    /// Reads `count` consecutive little-endian integers.
    mutating func integers<T: FixedWidthInteger>(
        _ type: T.Type, count: Int, _ what: @autoclosure () -> String
    ) throws(ModelFormatError) -> [T] {
        let size = MemoryLayout<T>.size
        guard count >= 0, count <= remaining / size else {
            throw corrupt(
                "\(what()) at offset \(offset): \(count) values of \(size) bytes do not fit in the \(remaining) bytes left"
            )
        }
        let start = offset, source = bytes
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                buffer[index] = T(littleEndian: source.loadUnaligned(fromByteOffset: start + index * size, as: T.self))
            }
            initialized = count
        }
        offset += count * size
        return values
    }

    /// Moves the cursor to `newOffset`, which must lie within the buffer.
    mutating func seek(to newOffset: Int, _ what: @autoclosure () -> String) throws(ModelFormatError) {
        guard newOffset >= 0, newOffset <= bytes.count else {
            throw corrupt("\(what()) offset \(newOffset) is outside the \(bytes.count)-byte file")
        }
        offset = newOffset
    }

    /// Advances past `count` bytes.
    mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws(ModelFormatError) {
        try require(count, what())
        offset += count
    }
}
