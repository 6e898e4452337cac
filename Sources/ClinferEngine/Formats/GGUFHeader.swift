/// The parsed header of a GGUF file: version, metadata, tensor directory and data layout.
///
/// Layout (little-endian): magic `GGUF`, UInt32 version, UInt64 tensor count, UInt64 metadata
/// count, the metadata key/value pairs, the tensor infos, padding to the alignment, then the
/// data section. Parsing validates everything it reads (see ``parse(_:path:)``); the tensor
/// data itself is not touched.
struct GGUFHeader {
    var version: Int
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int

    /// `GGUF` read as a little-endian UInt32.
    static let magic: UInt32 = 0x4655_4747
    /// The alignment of the data section and of every tensor when `general.alignment` is absent.
    static let defaultAlignment = 32
    /// Arrays of arrays deeper than this are rejected (bounds recursion on hostile input).
    static let maxArrayDepth = 8
    /// Fewest bytes a tensor info occupies: name length, n_dims, one dimension, type, offset.
    static let minimumTensorInfoSize = 8 + 4 + 8 + 4 + 8
    /// Fewest bytes a metadata pair occupies: key length, value type, a one-byte value.
    static let minimumKeyValueSize = 8 + 4 + 1
    /// The most elements reserved up front for a count read from the file.
    static let reservationLimit = 1 << 12

    /// Parses and validates the header in `bytes`, the whole file.
    ///
    /// Throws `unsupported` for GGUF v1 and big-endian files, and `corrupt` for a bad magic,
    /// any read past the end, counts or lengths the file cannot hold, unknown value or tensor
    /// types, duplicate keys or tensor names, more than 4 or zero-sized dimensions, sizes that
    /// overflow, a `general.alignment` that is not a power of two, and tensor data that is
    /// misaligned or extends past the end of the file.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(ModelFormatError) -> GGUFHeader {
        var reader = ByteReader(bytes, path: path)
        guard bytes.count >= 4 else {
            throw reader.corrupt("the file is \(bytes.count) bytes, too short to be a GGUF file")
        }
        let magic = try reader.uint32("magic")
        guard magic == Self.magic else {
            throw reader.corrupt("bad magic 0x\(String(magic, radix: 16)) (expected \"GGUF\"): not a GGUF file")
        }
        let version = try Self.version(try reader.uint32("version"), path: path)
        let tensorCount = try reader.count("tensor count", atMost: (reader.remaining - 16) / minimumTensorInfoSize)
        let metadataCount = try reader.count("metadata count", atMost: (reader.remaining - 8) / minimumKeyValueSize)

        var metadata: [String: GGUFValue] = [:], keys: [String] = []
        // Counts come from the file: reserve a little and let the collections grow with what
        // actually parses, so a forged count costs no more memory than the file's real content.
        metadata.reserveCapacity(min(metadataCount, Self.reservationLimit))
        keys.reserveCapacity(min(metadataCount, Self.reservationLimit))
        for index in 0..<metadataCount {
            let keyOffset = reader.offset
            let key = try reader.string("metadata key \(index)")
            guard metadata[key] == nil else {
                throw reader.corrupt("duplicate metadata key '\(key)' at offset \(keyOffset)")
            }
            metadata[key] = try value(
                of: try valueType(&reader, "metadata key '\(key)'"), from: &reader, key: key, depth: 0)
            keys.append(key)
        }

        let alignment = try Self.alignment(metadata["general.alignment"], reader: reader)
        let infos = try tensorInfos(tensorCount, from: &reader)
        guard let dataOffset = alignUp(reader.offset, to: alignment) else {
            throw reader.corrupt("data section offset overflows with alignment \(alignment)")
        }
        let tensors = try infos.map { (info) throws(ModelFormatError) -> GGUFTensorInfo in
            try placed(info, dataOffset: dataOffset, alignment: alignment, fileSize: bytes.count, reader: reader)
        }
        return GGUFHeader(
            version: version, metadata: metadata, metadataKeys: keys, tensors: tensors,
            alignment: alignment, dataOffset: dataOffset)
    }

    // MARK: Header fields

    private static func version(_ raw: UInt32, path: String) throws(ModelFormatError) -> Int {
        switch raw {
        case 2, 3: return Int(raw)
        case 1:
            throw .unsupported(
                path: path,
                detail: "GGUF version 1 (an early 2023 format); convert the model again with a current llama.cpp")
        case _ where (1...3).contains(raw.byteSwapped):
            throw .unsupported(path: path, detail: "big-endian GGUF (version field 0x\(String(raw, radix: 16)))")
        default: throw .unsupported(path: path, detail: "GGUF version \(raw) (supported: 2 and 3)")
        }
    }

    private static func alignment(_ value: GGUFValue?, reader: ByteReader) throws(ModelFormatError) -> Int {
        guard let value else { return defaultAlignment }
        guard let alignment = value.intValue else {
            throw reader.corrupt("general.alignment must be an integer, got a \(value.type)")
        }
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw reader.corrupt("general.alignment \(alignment) is not a power of two")
        }
        return alignment
    }

    // MARK: Metadata values

    private static func valueType(
        _ reader: inout ByteReader, _ what: @autoclosure () -> String
    ) throws(ModelFormatError) -> GGUFValueType {
        let offset = reader.offset
        let raw = try reader.uint32("\(what()) value type")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw reader.corrupt("\(what()): unknown value type \(raw) at offset \(offset)")
        }
        return type
    }

    private static func value(
        of type: GGUFValueType, from reader: inout ByteReader, key: String, depth: Int
    ) throws(ModelFormatError) -> GGUFValue {
        let what = "metadata key '\(key)'"
        switch type {
        case .uint8: return .uint8(try reader.integer(UInt8.self, what))
        case .int8: return .int8(try reader.integer(Int8.self, what))
        case .uint16: return .uint16(try reader.integer(UInt16.self, what))
        case .int16: return .int16(try reader.integer(Int16.self, what))
        case .uint32: return .uint32(try reader.integer(UInt32.self, what))
        case .int32: return .int32(try reader.integer(Int32.self, what))
        case .uint64: return .uint64(try reader.integer(UInt64.self, what))
        case .int64: return .int64(try reader.integer(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try reader.uint32(what)))
        case .float64: return .float64(Double(bitPattern: try reader.uint64(what)))
        case .bool:
            let offset = reader.offset
            let byte = try reader.uint8(what)
            guard byte <= 1 else { throw reader.corrupt("\(what): bool value \(byte) at offset \(offset)") }
            return .bool(byte == 1)
        case .string: return .string(try reader.string(what))
        case .array: return .array(try array(from: &reader, key: key, depth: depth + 1))
        }
    }

    private static func array(
        from reader: inout ByteReader, key: String, depth: Int
    ) throws(ModelFormatError) -> GGUFArray {
        let what = "metadata key '\(key)'"
        guard depth <= maxArrayDepth else {
            throw reader.corrupt("\(what): arrays nested more than \(maxArrayDepth) deep at offset \(reader.offset)")
        }
        let type = try valueType(&reader, "\(what) array element")
        let count = try reader.count("\(what) array count", atMost: (reader.remaining - 8) / type.minimumEncodedSize)
        switch type {
        case .uint8: return .uint8(try reader.integers(UInt8.self, count: count, what))
        case .int8: return .int8(try reader.integers(Int8.self, count: count, what))
        case .uint16: return .uint16(try reader.integers(UInt16.self, count: count, what))
        case .int16: return .int16(try reader.integers(Int16.self, count: count, what))
        case .uint32: return .uint32(try reader.integers(UInt32.self, count: count, what))
        case .int32: return .int32(try reader.integers(Int32.self, count: count, what))
        case .uint64: return .uint64(try reader.integers(UInt64.self, count: count, what))
        case .int64: return .int64(try reader.integers(Int64.self, count: count, what))
        case .float32:
            return .float32(try reader.integers(UInt32.self, count: count, what).map(Float.init(bitPattern:)))
        case .float64:
            return .float64(try reader.integers(UInt64.self, count: count, what).map(Double.init(bitPattern:)))
        case .bool:
            let offset = reader.offset
            let raw = try reader.integers(UInt8.self, count: count, what)
            if let bad = raw.firstIndex(where: { $0 > 1 }) {
                throw reader.corrupt("\(what): bool element \(bad) is \(raw[bad]) at offset \(offset + bad)")
            }
            return .bool(raw.map { $0 == 1 })
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(min(count, Self.reservationLimit))
            for index in 0..<count { strings.append(try reader.string("\(what) element \(index)")) }
            return .string(strings)
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(min(count, Self.reservationLimit))
            for _ in 0..<count { arrays.append(try array(from: &reader, key: key, depth: depth + 1)) }
            return .array(arrays)
        }
    }

    // MARK: Tensor infos

    /// Reads the tensor infos; offsets are still relative to the data section.
    private static func tensorInfos(
        _ count: Int, from reader: inout ByteReader
    ) throws(ModelFormatError) -> [GGUFTensorInfo] {
        var infos: [GGUFTensorInfo] = [], names = Set<String>()
        infos.reserveCapacity(min(count, Self.reservationLimit))
        for index in 0..<count {
            let nameOffset = reader.offset
            let name = try reader.string("tensor \(index) name")
            guard names.insert(name).inserted else {
                throw reader.corrupt("duplicate tensor name '\(name)' at offset \(nameOffset)")
            }
            let what = "tensor '\(name)'"
            let dimensionCount = try reader.uint32("\(what) n_dims")
            guard (1...4).contains(dimensionCount) else {
                throw reader.corrupt("\(what) has \(dimensionCount) dimensions (must be 1 to 4)")
            }
            var dimensions: [Int] = []
            for axis in 0..<Int(dimensionCount) {
                let raw = try reader.uint64("\(what) dimension \(axis)")
                guard raw >= 1, let dimension = Int(exactly: raw) else {
                    throw reader.corrupt("\(what) dimension \(axis) is \(raw) (must be 1 to \(Int.max))")
                }
                dimensions.append(dimension)
            }
            let typeOffset = reader.offset
            let rawType = try reader.uint32("\(what) type")
            guard let type = GGUFTensorType(rawValue: rawType) else {
                throw reader.corrupt("\(what) has unknown ggml type id \(rawType) at offset \(typeOffset)")
            }
            let rawOffset = try reader.uint64("\(what) offset")
            guard let offset = Int(exactly: rawOffset) else {
                throw reader.corrupt("\(what) data offset \(rawOffset) is out of range")
            }
            guard let byteCount = type.byteCount(dimensions: dimensions) else {
                throw reader.corrupt(
                    "\(what) of type \(type.name) cannot have dimensions \(dimensions): ne0 must be a multiple of \(type.blockSize) and the size must fit in 64 bits"
                )
            }
            var elementCount = 1, overflow = false
            for dimension in dimensions where !overflow {
                (elementCount, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
            }
            guard !overflow else { throw reader.corrupt("\(what) element count \(dimensions) overflows") }
            infos.append(
                GGUFTensorInfo(
                    name: name, dimensions: dimensions, type: type, offset: offset, fileOffset: 0,
                    elementCount: elementCount, byteCount: byteCount))
        }
        return infos
    }

    /// Checks a tensor's alignment and that its data lies inside the file, and sets its file offset.
    private static func placed(
        _ info: GGUFTensorInfo, dataOffset: Int, alignment: Int, fileSize: Int, reader: ByteReader
    ) throws(ModelFormatError) -> GGUFTensorInfo {
        let what = "tensor '\(info.name)'"
        guard info.offset % alignment == 0 else {
            throw reader.corrupt("\(what) data offset \(info.offset) is not a multiple of the alignment \(alignment)")
        }
        let (start, overflow) = dataOffset.addingReportingOverflow(info.offset)
        guard !overflow, start <= fileSize, info.byteCount <= fileSize - start else {
            throw reader.corrupt(
                "\(what) data (\(info.byteCount) bytes at data offset \(info.offset), file offset \(overflow ? "overflow" : String(start))) extends past the end of the \(fileSize)-byte file"
            )
        }
        return GGUFTensorInfo(
            name: info.name, dimensions: info.dimensions, type: info.type, offset: info.offset, fileOffset: start,
            elementCount: info.elementCount, byteCount: info.byteCount)
    }

    /// `value` rounded up to a multiple of `alignment` (a power of two); nil on overflow.
    static func alignUp(_ value: Int, to alignment: Int) -> Int? {
        let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }
}
