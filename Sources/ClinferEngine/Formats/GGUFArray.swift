/// A GGUF metadata array: elements of one type, stored as a typed Swift array so that large
/// arrays (a tokenizer's 50 000 tokens, scores and token types) cost one allocation, not one
/// enum value per element. Arrays of arrays nest; each inner array has its own element type.
public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8])
    case int8([Int8])
    case uint16([UInt16])
    case int16([Int16])
    case uint32([UInt32])
    case int32([Int32])
    case uint64([UInt64])
    case int64([Int64])
    case float32([Float])
    case float64([Double])
    case bool([Bool])
    case string([String])
    case array([GGUFArray])

    /// The type of every element.
    public var elementType: GGUFValueType {
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

    /// The number of elements.
    public var count: Int {
        switch self {
        case .uint8(let v): v.count
        case .int8(let v): v.count
        case .uint16(let v): v.count
        case .int16(let v): v.count
        case .uint32(let v): v.count
        case .int32(let v): v.count
        case .uint64(let v): v.count
        case .int64(let v): v.count
        case .float32(let v): v.count
        case .float64(let v): v.count
        case .bool(let v): v.count
        case .string(let v): v.count
        case .array(let v): v.count
        }
    }

    /// The element at `index` as a ``GGUFValue``; nil when `index` is out of range.
    public func element(at index: Int) -> GGUFValue? {
        guard index >= 0, index < count else { return nil }
        return switch self {
        case .uint8(let v): .uint8(v[index])
        case .int8(let v): .int8(v[index])
        case .uint16(let v): .uint16(v[index])
        case .int16(let v): .int16(v[index])
        case .uint32(let v): .uint32(v[index])
        case .int32(let v): .int32(v[index])
        case .uint64(let v): .uint64(v[index])
        case .int64(let v): .int64(v[index])
        case .float32(let v): .float32(v[index])
        case .float64(let v): .float64(v[index])
        case .bool(let v): .bool(v[index])
        case .string(let v): .string(v[index])
        case .array(let v): .array(v[index])
        }
    }

    /// The elements of a string array.
    public var strings: [String]? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The elements of an integer array of any width as `Int`; nil for other element types, or
    /// when a UInt64 element exceeds `Int.max`.
    public var ints: [Int]? {
        switch self {
        case .uint8(let v): v.map(Int.init)
        case .int8(let v): v.map(Int.init)
        case .uint16(let v): v.map(Int.init)
        case .int16(let v): v.map(Int.init)
        case .uint32(let v): v.map(Int.init)
        case .int32(let v): v.map(Int.init)
        case .int64(let v): v.map(Int.init)
        case .uint64(let v): v.allSatisfy({ $0 <= UInt64(Int.max) }) ? v.map { Int($0) } : nil
        default: nil
        }
    }

    /// The elements of a float32 or float64 array as `Float`; nil for other element types.
    public var floats: [Float]? {
        switch self {
        case .float32(let v): v
        case .float64(let v): v.map(Float.init)
        default: nil
        }
    }
}
