/// Row normalisation on the CPU, accumulating in double: the reference for `Kernels/norm.cl`.
public struct CPUNorm: NormOperation {
    public init() {}

    public func normalize(
        _ problem: NormProblem, x: HostTensor, residual: HostTensor?, weight: HostTensor, bias: HostTensor?,
        out: HostTensor
    ) throws {
        try problem.validate(x: x, residual: residual, weight: weight, bias: bias, out: out)
        let width = problem.width, gamma = weight.floats, beta = bias?.floats
        var values = x.floats
        if let residual {
            for (index, delta) in residual.floats.enumerated() { values[index] += delta }
            x.storage = .float32(values)
        }
        var result = [Float](repeating: 0, count: values.count)
        for row in 0..<problem.rows {
            let slice = values[row * width..<(row + 1) * width]
            let mean = problem.kind == .layer ? slice.reduce(0.0) { $0 + Double($1) } / Double(width) : 0
            let spread = slice.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(width)
            let inverse = 1 / (spread + Double(problem.eps)).squareRoot()
            for i in 0..<width {
                let normalised = (Double(values[row * width + i]) - mean) * inverse * Double(gamma[i])
                result[row * width + i] = Float(normalised + Double(beta?[i] ?? 0))
            }
        }
        out.storage = .float32(result)
    }
}
