import ClinferOps
import OpenCLKit
import Testing

/// The OpenCL backend every test in this process shares (one context, one program memo).
///
/// A machine without an OpenCL device fails these tests: they never skip.
enum TestDevice {
    static let backend: Result<OpenCLBackend, any Error> = Result {
        guard let backend = try OpenCLBackend.make() else {
            throw CLError(
                code: CLError.deviceNotFound, call: "tests",
                detail: "no OpenCL device: install pocl-opencl-icd (see README)")
        }
        return backend
    }

    static func opencl() throws -> OpenCLBackend { try backend.get() }
}

func randomFloats(_ count: Int, seed: UInt64, range: ClosedRange<Float> = -1...1) -> [Float] {
    SplitMix64.floats(count, seed: seed, in: range)
}

func relativeError(_ x: [Float], _ reference: [Float]) -> Float { maxRelativeError(x, reference) }
