import ClinferOps
import OpenCLKit
import Testing

/// The OpenCL backend every test in this process shares (one context, one program memo).
///
/// A machine without an OpenCL device fails these tests: they never skip.
enum TestDevice {
    static let backend: Result<OpenCLBackend, any Error> = Result {
        guard let backend = try OpenCLBackend.make() else {
            throw CLError(code: CLError.deviceNotFound, call: "tests", detail: "no OpenCL device: install pocl-opencl-icd (see README)")
        }
        return backend
    }

    static func opencl() throws -> OpenCLBackend { try backend.get() }
}

/// A small deterministic generator (SplitMix64), so every failure reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomFloats(_ count: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &generator) }
}

/// max |x - y| / max(max |y|, 1e-6): the error measure every parity test states a bound for.
func relativeError(_ x: [Float], _ reference: [Float]) -> Float {
    precondition(x.count == reference.count)
    var worst: Float = 0, scale: Float = 1e-6
    for (a, b) in zip(x, reference) {
        if !a.isFinite { return .infinity }
        worst = max(worst, abs(a - b))
        scale = max(scale, abs(b))
    }
    return worst / scale
}
