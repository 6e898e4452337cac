import ClinferOps

/// The weight matrix of a linear layer, [rows = outputs, columns = inputs], as the model file
/// stores it: quantized (GGUF blocks, kept quantized on the device) or dense (F32/F16/BF16
/// tensors, widened to fp32).
public enum LinearWeight: Sendable {
    case quantized(QuantizedMatrix)
    case dense(values: [Float], rows: Int, columns: Int)

    public var rows: Int {
        switch self {
        case .quantized(let matrix): matrix.rows
        case .dense(_, let rows, _): rows
        }
    }

    public var columns: Int {
        switch self {
        case .quantized(let matrix): matrix.columns
        case .dense(_, _, let columns): columns
        }
    }

    /// Row `index` as floats (an embedding lookup).
    public func row(_ index: Int) throws -> [Float] {
        switch self {
        case .quantized(let matrix): return try matrix.row(index)
        case .dense(let values, _, let columns): return Array(values[index * columns..<(index + 1) * columns])
        }
    }

    /// Every value as floats.
    public func dequantized() -> [Float] {
        switch self {
        case .quantized(let matrix): matrix.dequantized()
        case .dense(let values, _, _): values
        }
    }

    /// The weights stacked along rows, so one matmul computes several projections (Q, K and V;
    /// gate and up). Quantized parts stay quantized when they share a device form (each keeps
    /// its GGUF format); dense parts stack as fp32. Quantized parts that cannot stack, or a mix of
    /// quantized and dense, throw: widening quantized weights to fp32 would multiply their
    /// memory 4–8× behind the caller's back.
    public static func stacking(_ parts: [LinearWeight]) throws -> LinearWeight {
        guard let columns = parts.first?.columns, parts.allSatisfy({ $0.columns == columns }) else {
            throw OpError.shapeMismatch(op: "LinearWeight.stacking", detail: "weights have different input widths")
        }
        let matrices = parts.compactMap { if case .quantized(let matrix) = $0 { matrix } else { nil } }
        if matrices.count == parts.count { return .quantized(try QuantizedMatrix.stackingRows(matrices)) }
        guard matrices.isEmpty else {
            throw OpError.unsupportedType(
                op: "LinearWeight.stacking", detail: "cannot stack quantized and dense weights without widening")
        }
        return .dense(
            values: parts.flatMap { $0.dequantized() }, rows: parts.reduce(0) { $0 + $1.rows }, columns: columns)
    }
}
