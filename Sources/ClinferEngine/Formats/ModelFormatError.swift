/// A model file could not be used: it is truncated or corrupt, or holds something Clinfer does
/// not support. Every case names the file and what is wrong, so a user can act on the message.
public enum ModelFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file cannot be opened or mapped.
    case unreadable(path: String, detail: String)
    /// The bytes do not form a valid file of the format (bad magic, out-of-range offset or count,
    /// truncated data, inconsistent header).
    case corrupt(path: String, detail: String)
    /// A tensor's element type is not one Clinfer can load.
    case unsupportedTensorType(path: String, tensor: String, type: String)
    /// A tensor or metadata key the model needs is absent, or has the wrong shape or type.
    case missing(path: String, detail: String)
    /// The model's architecture or a configuration value is not supported.
    case unsupported(path: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let detail): "\(path): cannot read: \(detail)"
        case .corrupt(let path, let detail): "\(path): corrupt or truncated: \(detail)"
        case .unsupportedTensorType(let path, let tensor, let type):
            "\(path): unsupported tensor type \(type) in tensor \(tensor)"
        case .missing(let path, let detail): "\(path): \(detail)"
        case .unsupported(let path, let detail): "\(path): unsupported: \(detail)"
        }
    }
}
