import ClinferOps

extension GGUFFile {
    /// The stored bytes of `info`'s data, straight from the mapping (no copy).
    ///
    /// The buffer is valid only while this `GGUFFile` is alive. `info` must be one of this
    /// file's ``tensors``; passing a tensor of another file is a programming error and traps.
    public func bytes(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(owns(info), "tensor '\(info.name)' does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: storage.bytes[info.fileOffset..<info.fileOffset + info.byteCount])
    }

    /// The tensor's values as floats, in storage order (ne0 fastest).
    ///
    /// F32, F16 and BF16 are converted; the quant formats (``GGUFTensorType/quantFormat``) are
    /// dequantized bit-exactly as llama.cpp does. Any other type throws `unsupportedTensorType` naming the tensor; a
    /// tensor that is not one of this file's throws `missing`.
    public func floats(of info: GGUFTensorInfo) throws(ModelFormatError) -> [Float] {
        let raw = try checkedBytes(of: info)
        switch info.type {
        case .f32: return FloatStorage.f32.decode(raw)
        case .f16: return FloatStorage.f16.decode(raw)
        case .bf16: return FloatStorage.bf16.decode(raw)
        case _ where info.type.quantFormat != nil:
            return try quantized(
                info, raw: raw, rows: info.elementCount / info.dimensions[0], columns: info.dimensions[0]
            ).dequantized()
        default:
            throw .unsupportedTensorType(path: path, tensor: info.name, type: info.type.name)
        }
    }

    /// A 2-D quantized tensor (any ``GGUFTensorType/quantFormat``) as a ``QuantizedMatrix`` with rows = ne1 and
    /// columns = ne0 (a weight [out, in] in llama.cpp's layout), bytes copied from the file.
    ///
    /// Throws `unsupportedTensorType` for any other type, and `missing` when the tensor is not
    /// 2-D (a trailing 1, as in `[K, N, 1]`, is accepted) or not one of this file's.
    public func quantizedMatrix(_ info: GGUFTensorInfo) throws(ModelFormatError) -> QuantizedMatrix {
        let raw = try checkedBytes(of: info)
        guard info.type.quantFormat != nil else {
            throw .unsupportedTensorType(
                path: path, tensor: info.name,
                type:
                    "\(info.type.name) (expected one of \(QuantFormat.gguf.map(\.description).joined(separator: ", ")))"
            )
        }
        let dimensions = info.dimensions
        guard dimensions.count >= 2, dimensions.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            throw .missing(
                path: path, detail: "tensor '\(info.name)' has dimensions \(dimensions), expected a matrix [ne0, ne1]")
        }
        return try quantized(info, raw: raw, rows: dimensions[1], columns: dimensions[0])
    }

    private func quantized(
        _ info: GGUFTensorInfo, raw: UnsafeRawBufferPointer, rows: Int, columns: Int
    ) throws(ModelFormatError) -> QuantizedMatrix {
        guard let format = info.type.quantFormat else {
            throw .unsupportedTensorType(path: path, tensor: info.name, type: info.type.name)
        }
        do {
            return try QuantizedMatrix(ggufBytes: Array(raw), format: format, rows: rows, columns: columns)
        } catch {
            throw .corrupt(path: path, detail: "tensor '\(info.name)': \(error)")
        }
    }

    /// `bytes(of:)`, throwing instead of trapping for a tensor of another file.
    private func checkedBytes(of info: GGUFTensorInfo) throws(ModelFormatError) -> UnsafeRawBufferPointer {
        guard owns(info) else {
            throw .missing(path: path, detail: "tensor '\(info.name)' is not one of this file's tensors")
        }
        return bytes(of: info)
    }
}
