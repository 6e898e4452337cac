/// How a weight matrix [N, K] is quantized along K: one description per format that the loader,
/// ``QuantizedMatrix``, the device upload, the kernels' `-D` options and the benchmarks read.
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
    /// GGUF Q5_0: Q4_0's nibbles plus a 32-bit word of fifth bits; value = (q − 16)·d. 22 bytes.
    case q5_0
    /// GGUF Q5_1: Q4_1 with a fifth bit per value (value = q·d + m). 24 bytes a block.
    case q5_1
    /// GGUF Q4_K: super-blocks of 256 with fp16 d and dmin and eight 6-bit scales and mins (one
    /// per 32 values); value = d·sc·q − dmin·mn. 144 bytes a super-block.
    case q4_K
    /// GGUF Q5_K: Q4_K with a fifth bit per value. 176 bytes a super-block.
    case q5_K
    /// GGUF Q6_K: super-blocks of 256 6-bit values with sixteen int8 scales (one per 16 values)
    /// and an fp16 d; value = d·sc·(q − 32). 210 bytes a super-block.
    case q6_K
    /// Group-wise asymmetric int4 (AWQ style): per group of `groupSize` elements along K an fp16
    /// scale s and an integer zero point z in 0...15; value = (q − z)·s. Nibbles use the GGUF
    /// order in every run of 32 elements. `groupSize` is 32, 64 or 128 (AWQ's default).
    case int4(groupSize: Int)

    /// The GGUF formats, in the order benchmarks and tests list them.
    public static let gguf: [QuantFormat] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// How the kernels store the quants on a device: every format is transcoded at upload into one
    /// of two encodings, with fp32 scale d and offset m per ``groupSize`` values (value = q·d + m).
    public enum DeviceEncoding: Sendable, Hashable {
        /// Two 4-bit values a byte; in every run of 32, byte j holds element j (low nibble) and
        /// element j + 16 (high nibble), GGUF's Q4 order.
        case nibbles
        /// One signed byte a value (formats of 5 to 8 bits; `q` in −128…127).
        case bytes
    }

    /// The device encoding: nibbles for the 4-bit formats, bytes for 5 to 8 bits.
    public var deviceEncoding: DeviceEncoding {
        switch self {
        case .q4_0, .q4_1, .q4_K, .int4: .nibbles
        case .q8_0, .q5_0, .q5_1, .q5_K, .q6_K: .bytes
        }
    }

    /// Whether the device form has an offset m per group (value = q·d + m, not q·d).
    public var hasOffset: Bool {
        switch self {
        case .q8_0, .q5_0, .q6_K: false
        case .q4_0, .q4_1, .q5_1, .q4_K, .q5_K, .int4: true
        }
    }

    /// Elements that share one scale on the device (Q6_K's 16; 32 for the other GGUF formats).
    public var groupSize: Int {
        switch self {
        case .q6_K: 16
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K: 32
        case .int4(let groupSize): groupSize
        }
    }

    /// Bits per quantized value in the file (5 for Q5_0, 6 for Q6_K, …).
    public var bits: Int {
        switch self {
        case .q8_0: 8
        case .q6_K: 6
        case .q5_0, .q5_1, .q5_K: 5
        case .q4_0, .q4_1, .q4_K, .int4: 4
        }
    }

    /// Elements per GGUF block: 32, or 256 for the K-quants' super-blocks (nil for `int4`).
    public var ggufBlockElements: Int? {
        switch self {
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1: 32
        case .q4_K, .q5_K, .q6_K: 256
        case .int4: nil
        }
    }

    /// Bytes per GGUF block (nil for `int4`, which is not a GGUF type).
    public var ggufBlockBytes: Int? {
        switch self {
        case .q8_0: 34
        case .q4_0: 18
        case .q4_1: 20
        case .q5_0: 22
        case .q5_1: 24
        case .q4_K: 144
        case .q5_K: 176
        case .q6_K: 210
        case .int4: nil
        }
    }

    /// Byte offsets of a GGUF block's fp16 fields (scales and mins), where tests and benchmarks
    /// put finite values when they build random blocks.
    var ggufHalfOffsets: [Int] {
        switch self {
        case .q8_0, .q4_0, .q5_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        case .int4: []
        }
    }

    /// The multiple K must be: the GGUF block, or the int4 group.
    public var columnMultiple: Int { ggufBlockElements ?? groupSize }

    /// Bytes of a quantized [rows, columns] matrix as stored (quants plus scales, mins, zeros).
    public func storageBytes(rows: Int, columns: Int) -> Int {
        if let block = ggufBlockBytes, let elements = ggufBlockElements { return rows * columns / elements * block }
        return rows * columns / 2 + rows * (columns / groupSize) * 3  // nibbles, fp16 scale, uint8 zero
    }

    /// Bytes the kernels read per pass over a [rows, columns] matrix in the device form (quants,
    /// fp32 d, and fp32 m where the format has offsets).
    public func deviceBytes(rows: Int, columns: Int) -> Int {
        let quants = deviceEncoding == .nibbles ? rows * columns / 2 : rows * columns
        return quants + rows * (columns / groupSize) * (hasOffset ? 8 : 4)
    }

    public var description: String {
        switch self {
        case .q8_0: "Q8_0"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .int4(let groupSize): "INT4-g\(groupSize)"
        }
    }
}
