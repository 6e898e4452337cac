/// The header entry of one tensor in a GGUF file: where its data is and how to read it.
///
/// Dimensions are in GGUF (ggml) order, fastest-varying first: a weight matrix of `rows`
/// output features by `columns` input features has `dimensions == [columns, rows]`.
public struct GGUFTensorInfo: Sendable, Hashable {
    /// The tensor's name (`blk.0.attn_q.weight`).
    public let name: String
    /// Extents, ne0 first; 1 to 4 of them, each at least 1.
    public let dimensions: [Int]
    /// The element type.
    public let type: GGUFTensorType
    /// The data's offset from the start of the data section, as stored in the file.
    public let offset: Int
    /// The data's offset from the start of the file.
    public let fileOffset: Int
    /// Elements (product of the dimensions).
    public let elementCount: Int
    /// Bytes of data.
    public let byteCount: Int

    init(
        name: String, dimensions: [Int], type: GGUFTensorType, offset: Int, fileOffset: Int, elementCount: Int,
        byteCount: Int
    ) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
        self.fileOffset = fileOffset
        self.elementCount = elementCount
        self.byteCount = byteCount
    }

    /// The dimensions in row-major order, slowest-varying first (`[rows, columns]` for a
    /// matrix), the order safetensors and PyTorch use.
    public var shape: [Int] { dimensions.reversed() }
}
