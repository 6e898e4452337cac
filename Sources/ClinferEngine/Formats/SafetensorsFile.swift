/// A safetensors file (Hugging Face's format for BERT-style encoders and most checkpoints),
/// memory-mapped and validated on open.
///
/// Opening parses only the JSON header; every tensor's dtype, shape and data range is checked
/// against the file, so a truncated or corrupt file throws `ModelFormatError`. Tensors of any
/// dtype load; reading values (``floats(of:)``) supports F32, F16 and BF16 and throws
/// `unsupportedTensorType` for the rest.
public final class SafetensorsFile: Sendable {
    /// The path the file was opened from (or the name given to in-memory bytes).
    public let path: String
    /// Every tensor by name.
    public let tensors: [String: SafetensorsTensorInfo]
    /// The `__metadata__` entries (empty when absent).
    public let metadata: [String: String]
    /// The JSON header's length in bytes; the data section starts at `8 + headerLength`.
    public let headerLength: Int

    let storage: MappedFile

    /// Maps and parses the safetensors file at `path`.
    ///
    /// Throws `unreadable` if the file cannot be opened or mapped, and `corrupt` (naming the
    /// tensor) for invalid contents.
    public convenience init(path: String) throws(ModelFormatError) {
        try self.init(storage: MappedFile(path: path), path: path)
    }

    /// Parses safetensors bytes held in memory (copied); `name` stands in for the path in errors.
    public convenience init(bytes: some Collection<UInt8>, name: String = "<memory>") throws(ModelFormatError) {
        try self.init(storage: MappedFile(copying: bytes), path: name)
    }

    private init(storage: MappedFile, path: String) throws(ModelFormatError) {
        let header = try SafetensorsHeader.parse(storage.bytes, path: path)
        self.storage = storage
        self.path = path
        tensors = header.tensors
        metadata = header.metadata
        headerLength = header.headerLength
    }

    /// The file's size in bytes.
    public var fileSize: Int { storage.bytes.count }

    /// The tensors ordered by where their data lies (then by name), for listings.
    public var orderedTensors: [SafetensorsTensorInfo] {
        tensors.values.sorted { ($0.dataOffsets.lowerBound, $0.name) < ($1.dataOffsets.lowerBound, $1.name) }
    }

    /// The tensor called `name`, if the file has one.
    public func tensor(named name: String) -> SafetensorsTensorInfo? { tensors[name] }

    /// The stored bytes of `info`'s data, straight from the mapping (no copy; no alignment
    /// guarantee). Valid only while this object is alive. `info` must be one of this file's
    /// tensors; passing a tensor of another file is a programming error and traps.
    public func bytes(of info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensors[info.name] == info, "tensor '\(info.name)' does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: storage.bytes[info.fileOffset..<info.fileOffset + info.byteCount])
    }

    /// The tensor's values as floats, row-major. F32, F16 and BF16 are converted; any other
    /// dtype throws `unsupportedTensorType` naming the tensor; a tensor that is not one of this
    /// file's throws `missing`.
    public func floats(of info: SafetensorsTensorInfo) throws(ModelFormatError) -> [Float] {
        guard tensors[info.name] == info else {
            throw .missing(path: path, detail: "tensor '\(info.name)' is not one of this file's tensors")
        }
        guard let storage = info.dtype.floatStorage else {
            throw .unsupportedTensorType(path: path, tensor: info.name, type: info.dtype.rawValue)
        }
        return storage.decode(bytes(of: info))
    }
}
