/// An op was asked to do something it cannot: inconsistent shapes, unsupported element types,
/// invalid kernel parameters, or an unusable tuning file.
///
/// OpenCL failures surface as `CLError` (from OpenCLKit) instead, with the OpenCL error name.
public enum OpError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Operand sizes do not match the problem's dimensions.
    case shapeMismatch(op: String, detail: String)
    /// A dimension or scalar is out of range (e.g. a zero dimension).
    case invalidArgument(op: String, detail: String)
    /// The element type is not supported by this op or in this position.
    case unsupportedType(op: String, detail: String)
    /// Kernel parameters violate a constraint or a device limit; checked before compiling.
    case invalidConfiguration(kernel: String, detail: String)
    /// A tuning file exists but cannot be used; defaults apply instead.
    case corruptTuningFile(path: String, detail: String)

    public var description: String {
        switch self {
        case .shapeMismatch(let op, let detail): "\(op): shape mismatch: \(detail)"
        case .invalidArgument(let op, let detail): "\(op): invalid argument: \(detail)"
        case .unsupportedType(let op, let detail): "\(op): unsupported element type: \(detail)"
        case .invalidConfiguration(let kernel, let detail): "\(kernel): invalid kernel configuration: \(detail)"
        case .corruptTuningFile(let path, let detail): "tuning file \(path) is unusable: \(detail)"
        }
    }
}
