/// How a weight matrix [N, K] is quantized along K.
///
/// The GGUF block formats are bit-exact with llama.cpp, so tensors from GGUF files load without
/// conversion. `int4` is Clinfer's group-wise asymmetric int4 in the style of AWQ.
public enum QuantFormat: Hashable, Sendable, CustomStringConvertible {
    /// GGUF Q8_0: blocks of 32 int8 values with one fp16 scale d; value = q·d. 34 bytes a block.
    case q8_0
    /// GGUF Q4_0: blocks of 32 4-bit values with one fp16 scale d; value = (q − 8)·d. Byte j of a
    /// block holds element j (low nibble) and element j+16 (high nibble). 18 bytes a block.
    case q4_0
    /// GGUF Q4_1: blocks of 32 4-bit values with fp16 scale d and fp16 min m; value = q·d + m.
    /// Same nibble order as Q4_0. 20 bytes a block.
    case q4_1
    /// Group-wise asymmetric int4 (AWQ style): per group of `groupSize` elements along K an fp16
    /// scale s and an integer zero point z in 0...15; value = (q − z)·s. Nibbles use the GGUF
    /// order in every run of 32 elements. `groupSize` is 32, 64 or 128 (AWQ's default).
    case int4(groupSize: Int)

    /// Elements that share one scale.
    public var groupSize: Int {
        switch self {
        case .q8_0, .q4_0, .q4_1: 32
        case .int4(let groupSize): groupSize
        }
    }

    /// Bits per quantized value.
    public var bits: Int { self == .q8_0 ? 8 : 4 }

    /// Bytes per GGUF block of 32 elements (nil for `int4`, which is not a GGUF type).
    public var ggufBlockBytes: Int? {
        switch self {
        case .q8_0: 34
        case .q4_0: 18
        case .q4_1: 20
        case .int4: nil
        }
    }

    /// Bytes of a quantized [rows, columns] matrix as stored (quants plus scales, mins, zeros).
    public func storageBytes(rows: Int, columns: Int) -> Int {
        if let block = ggufBlockBytes { return rows * columns / 32 * block }
        return rows * columns / 2 + rows * (columns / groupSize) * 3  // nibbles, fp16 scale, uint8 zero
    }

    public var description: String {
        switch self {
        case .q8_0: "Q8_0"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .int4(let groupSize): "INT4-g\(groupSize)"
        }
    }
}
