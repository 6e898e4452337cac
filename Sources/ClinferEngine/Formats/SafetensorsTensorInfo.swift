/// The header entry of one tensor in a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Hashable {
    /// The tensor's name (`embeddings.word_embeddings.weight`).
    public let name: String
    /// The element type.
    public let dtype: SafetensorsDType
    /// Extents in row-major order, slowest-varying first (PyTorch's order); empty for a scalar.
    public let shape: [Int]
    /// The data's byte range relative to the start of the data section (`data_offsets`).
    public let dataOffsets: Range<Int>
    /// The data's offset from the start of the file.
    public let fileOffset: Int
    /// Elements (product of the shape; 1 for a scalar).
    public let elementCount: Int

    /// Bytes of data.
    public var byteCount: Int { dataOffsets.count }
}
