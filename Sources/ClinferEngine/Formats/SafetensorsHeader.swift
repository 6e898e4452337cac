import Foundation

/// The parsed header of a safetensors file.
///
/// Layout: a UInt64 little-endian header length N, N bytes of UTF-8 JSON, then the data
/// section. The JSON object maps each tensor name to `{"dtype", "shape", "data_offsets":
/// [begin, end]}` (offsets relative to the data section); the optional `__metadata__` entry
/// maps strings to strings.
struct SafetensorsHeader {
    var headerLength: Int
    var tensors: [String: SafetensorsTensorInfo]
    var metadata: [String: String]

    /// The largest header accepted (the reference implementation's limit).
    static let maximumHeaderLength = 100_000_000

    /// Parses and validates the header in `bytes`, the whole file.
    ///
    /// Throws `corrupt` when the length prefix is missing, over the limit or past the end of the
    /// file, the JSON is malformed or has the wrong shape, a shape extent is negative, offsets
    /// are reversed or outside the data section, or a known dtype's byte count disagrees with
    /// the shape.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(ModelFormatError) -> SafetensorsHeader {
        var reader = ByteReader(bytes, path: path)
        let length = try reader.uint64("header length")
        guard length <= UInt64(maximumHeaderLength) else {
            throw reader.corrupt("header length \(length) exceeds the \(maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(length)
        try reader.require(headerLength, "JSON header")
        let dataStart = 8 + headerLength, dataSize = bytes.count - dataStart
        let json = try decode(Data(UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])), path: path)

        var tensors: [String: SafetensorsTensorInfo] = [:]
        tensors.reserveCapacity(json.entries.count)
        for (name, entry) in json.entries {
            func fail(_ detail: String) -> ModelFormatError {
                .corrupt(path: path, detail: "tensor '\(name)': \(detail)")
            }
            let dtype = SafetensorsDType(rawValue: entry.dtype)
            guard entry.shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative extent in shape \(entry.shape)") }
            var elementCount = 1, overflow = false
            for extent in entry.shape where !overflow {
                (elementCount, overflow) = elementCount.multipliedReportingOverflow(by: extent)
            }
            guard !overflow else { throw fail("shape \(entry.shape) overflows") }
            guard entry.dataOffsets.count == 2 else {
                throw fail("data_offsets must be [begin, end], got \(entry.dataOffsets)")
            }
            let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw fail(
                    "data_offsets [\(begin), \(end)] are not an ordered range inside the \(dataSize)-byte data section")
            }
            if let bits = dtype.bitWidth {
                let (totalBits, overflow) = elementCount.multipliedReportingOverflow(by: bits)
                guard !overflow, totalBits % 8 == 0, totalBits / 8 == end - begin else {
                    throw fail(
                        "\(dtype) \(entry.shape) needs \(overflow ? "too many" : String(totalBits / 8)) bytes, data_offsets span \(end - begin)"
                    )
                }
            }
            tensors[name] = SafetensorsTensorInfo(
                name: name, dtype: dtype, shape: entry.shape, dataOffsets: begin..<end,
                fileOffset: dataStart + begin, elementCount: elementCount)
        }
        return SafetensorsHeader(headerLength: headerLength, tensors: tensors, metadata: json.metadata)
    }

    private static func decode(_ data: Data, path: String) throws(ModelFormatError) -> JSONHeader {
        do {
            return try JSONDecoder().decode(JSONHeader.self, from: data)
        } catch let error as DecodingError {
            throw .corrupt(path: path, detail: "JSON header: \(describe(error))")
        } catch let error as ModelFormatError {
            throw error
        } catch {
            throw .corrupt(path: path, detail: "JSON header: \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            context.codingPath.isEmpty ? "" : "at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': "
        }
        switch error {
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0))" } ?? ""
            return "\(at(context))\(context.debugDescription)\(underlying)"
        case .keyNotFound(let key, let context): return "\(at(context))missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(at(context))\(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// The header's JSON: a dynamic set of tensor entries plus `__metadata__`.
private struct JSONHeader: Decodable {
    var entries: [(name: String, entry: Entry)] = []
    var metadata: [String: String] = [:]

    struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
            }
        }
    }
}
