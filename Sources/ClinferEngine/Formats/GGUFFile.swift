/// A GGUF model file (versions 2 and 3), memory-mapped and validated on open.
///
/// Opening reads only the header: metadata, the tensor directory and the data layout, all
/// bounds-checked, so a truncated or corrupt file throws `ModelFormatError` instead of crashing.
/// Tensor data stays in the mapping until asked for (``bytes(of:)``, ``floats(of:)``,
/// ``quantizedMatrix(_:)``); the mapping is released when the object goes away.
///
/// A file may hold tensor types Clinfer cannot compute with (Q4_K, Q6_K, …): it still opens,
/// and only using such a tensor throws `unsupportedTensorType`. Strings are decoded as UTF-8,
/// with invalid sequences replaced by U+FFFD rather than failing the file.
public final class GGUFFile: Sendable {
    /// The path the file was opened from (or the name given to in-memory bytes).
    public let path: String
    /// The GGUF version: 2 or 3.
    public let version: Int
    /// Every metadata value by key.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of the data section and of every tensor's data (`general.alignment`, else 32).
    public let alignment: Int
    /// The offset of the data section from the start of the file.
    public let dataOffset: Int

    let storage: MappedFile
    private let tensorIndex: [String: Int]

    /// Maps and parses the GGUF file at `path`.
    ///
    /// Throws `unreadable` if the file cannot be opened or mapped, `unsupported` for GGUF v1 and
    /// big-endian files, and `corrupt` (naming the key, tensor or offset) for invalid contents.
    public convenience init(path: String) throws(ModelFormatError) {
        try self.init(storage: MappedFile(path: path), path: path)
    }

    /// Parses GGUF bytes held in memory (copied); `name` stands in for the path in errors.
    public convenience init(bytes: some Collection<UInt8>, name: String = "<memory>") throws(ModelFormatError) {
        try self.init(storage: MappedFile(copying: bytes), path: name)
    }

    private init(storage: MappedFile, path: String) throws(ModelFormatError) {
        let header = try GGUFHeader.parse(storage.bytes, path: path)
        self.storage = storage
        self.path = path
        version = header.version
        metadata = header.metadata
        metadataKeys = header.metadataKeys
        tensors = header.tensors
        alignment = header.alignment
        dataOffset = header.dataOffset
        tensorIndex = Dictionary(uniqueKeysWithValues: header.tensors.enumerated().map { ($0.element.name, $0.offset) })
    }

    /// The file's size in bytes.
    public var fileSize: Int { storage.bytes.count }

    /// The tensor called `name`, if the file has one.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Whether `info` is one of this file's tensors (and not one from another file).
    func owns(_ info: GGUFTensorInfo) -> Bool {
        tensorIndex[info.name].map { tensors[$0] == info } ?? false
    }
}
