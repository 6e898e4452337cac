import Foundation

/// One row-wise softmax: y = softmax(x · scale + mask) over `rows` rows of `n` values.
///
/// The mask is additive (use -infinity to block a position) and holds either one value per
/// element ([rows, n]) or one row shared by every row ([n]). A row with every position blocked
/// gives zeros, never NaN.
public struct SoftmaxProblem: Sendable, Hashable {
    public var rows: Int
    public var n: Int
    public var scale: Float

    public init(rows: Int, n: Int, scale: Float = 1) {
        self.rows = rows
        self.n = n
        self.scale = scale
    }

    /// Checks sizes; returns whether the mask (if any) has one row per row.
    func validate(x: some TensorOperand, y: some TensorOperand, mask: (some TensorOperand)?) throws(OpError) -> Bool {
        guard rows >= 1, n >= 1 else {
            throw .invalidArgument(op: "softmax", detail: "rows and n must be at least 1, got \(rows)x\(n)")
        }
        guard scale.isFinite else {
            throw .invalidArgument(op: "softmax", detail: "scale must be finite, got \(scale)")
        }
        try x.requireCount(rows * n, op: "softmax", name: "x")
        try y.requireCount(rows * n, op: "softmax", name: "y")
        for (name, tensor) in [("x", x.elementType), ("y", y.elementType)] where tensor != .float32 {
            throw .unsupportedType(op: "softmax", detail: "\(name) must be f32, got \(tensor)")
        }
        guard let mask else { return false }
        guard mask.elementType == .float32 else {
            throw .unsupportedType(op: "softmax", detail: "mask must be f32, got \(mask.elementType)")
        }
        guard mask.count == rows * n || mask.count == n else {
            throw .shapeMismatch(
                op: "softmax", detail: "mask has \(mask.count) elements; needs \(rows * n) ([rows, n]) or \(n) ([n])")
        }
        return mask.count == rows * n
    }
}

/// The softmax op family: an OpenCL implementation (``OpenCLSoftmax``, two-pass or three-pass)
/// and a CPU one (``CPUSoftmax``).
public protocol SoftmaxOperation: Sendable {
    associatedtype Tensor: TensorOperand
    func softmax(_ problem: SoftmaxProblem, x: Tensor, mask: Tensor?, y: Tensor) throws
}

/// Softmax on the CPU in double precision: the reference the kernels are tested against.
public struct CPUSoftmax: SoftmaxOperation {
    public init() {}

    public func softmax(_ problem: SoftmaxProblem, x: HostTensor, mask: HostTensor?, y: HostTensor) throws {
        let maskPerRow = try problem.validate(x: x, y: y, mask: mask)
        let input = x.floats, additive = mask?.floats
        var output = [Float](repeating: 0, count: input.count)
        let n = problem.n
        for row in 0..<problem.rows {
            let z = (0..<n).map { j -> Double in
                let value = Double(input[row * n + j]) * Double(problem.scale)
                guard let additive else { return value }
                return value + Double(additive[maskPerRow ? row * n + j : j])
            }
            let top = z.max()!
            guard top > -3e38 else { continue }  // every position blocked: zeros
            let e = z.map { $0 > -3e38 ? exp($0 - top) : 0 }
            let sum = e.reduce(0, +)
            for j in 0..<n { output[row * n + j] = Float(e[j] / sum) }
        }
        y.storage = .float32(output)
    }
}
