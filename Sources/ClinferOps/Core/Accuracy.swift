/// The largest absolute difference between `values` and `reference`, relative to the largest
/// magnitude in `reference`: the error measure parity tests, the tuner and benchmarks bound.
/// Any non-finite value in `values` gives infinity.
public func maxRelativeError(_ values: [Float], _ reference: [Float]) -> Float {
    guard values.count == reference.count else { return .infinity }
    var worst: Float = 0, scale: Float = 1e-6
    for (value, expected) in zip(values, reference) {
        guard value.isFinite else { return .infinity }
        worst = max(worst, abs(value - expected))
        scale = max(scale, abs(expected))
    }
    return worst / scale
}
