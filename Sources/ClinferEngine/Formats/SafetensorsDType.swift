/// A safetensors element type, by its name in the header (`F32`, `BF16`, `I64`, …).
///
/// Any name is accepted when a file is opened, so that buffers Clinfer never reads (such as
/// `I64` position ids) do not fail the load; only ``isSupported`` types can be read as values.
/// Known types have their byte counts validated against the shape; an unknown name cannot be,
/// and only its data range is checked.
public struct SafetensorsDType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let f32 = Self(rawValue: "F32")
    public static let f16 = Self(rawValue: "F16")
    public static let bf16 = Self(rawValue: "BF16")
    public static let f64 = Self(rawValue: "F64")
    public static let i64 = Self(rawValue: "I64")
    public static let i32 = Self(rawValue: "I32")
    public static let i16 = Self(rawValue: "I16")
    public static let i8 = Self(rawValue: "I8")
    public static let u8 = Self(rawValue: "U8")
    public static let bool = Self(rawValue: "BOOL")

    /// Bits per element for the types of the safetensors specification; nil for other names.
    public var bitWidth: Int? {
        switch rawValue {
        case "F4": 4
        case "F6_E2M3", "F6_E3M2": 6
        case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0": 8
        case "U16", "I16", "F16", "BF16": 16
        case "U32", "I32", "F32": 32
        case "U64", "I64", "F64", "C64": 64
        default: nil
        }
    }

    /// Whether Clinfer can read the values (``SafetensorsFile/floats(of:)``): F32, F16, BF16.
    public var isSupported: Bool { floatStorage != nil }

    var floatStorage: FloatStorage? {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        default: nil
        }
    }

    public var description: String { rawValue }
}
