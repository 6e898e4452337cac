/// How tensor elements are stored. Arithmetic is always fp32; fp16 is a storage format.
public enum ElementType: String, Sendable, Codable, CaseIterable {
    case float32 = "f32"
    case float16 = "f16"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .float16: 2
        }
    }
}
