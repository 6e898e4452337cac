/// One GGUF metadata value, with the exact type it has in the file (so a file written back
/// with ``GGUFWriter`` is byte-identical in its metadata).
///
/// Models read configuration through the loose accessors (``intValue``, ``floatValue``, …),
/// which accept any numeric width, because converters differ in the widths they write.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)

    /// The value's type tag in the file.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// Any integer type as `Int`; nil for other types or a UInt64 above `Int.max`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float32 or float64 value, or an integer value, as `Double`; nil for other types.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: intValue.map(Double.init)
        }
    }

    /// ``doubleValue`` as `Float`.
    public var floatValue: Float? { doubleValue.map(Float.init) }

    /// The text of a string value.
    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The value of a bool.
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// The elements of an array value.
    public var arrayValue: GGUFArray? {
        if case .array(let v) = self { return v }
        return nil
    }
}
