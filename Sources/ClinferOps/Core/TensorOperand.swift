/// What every op needs to know of a backend's tensor type to validate a call.
public protocol TensorOperand {
    var count: Int { get }
    var elementType: ElementType { get }
}

extension HostTensor: TensorOperand {}

extension TensorOperand {
    /// Throws `OpError.shapeMismatch` unless the tensor holds exactly `expected` elements.
    func requireCount(_ expected: Int, op: String, name: String) throws(OpError) {
        guard count == expected else {
            throw .shapeMismatch(op: op, detail: "\(name) has \(count) elements, the problem needs \(expected)")
        }
    }
}
