import ClinferOps
import OpenCLKit
import Testing

@Suite("Softmax: two-pass and three-pass kernels vs CPU")
struct SoftmaxTests {
    /// Single-precision exp on the device against a double-precision reference.
    static let tolerance: Float = 2e-6

    @Test("odd shapes, scales and masks", arguments: OpenCLSoftmax.Algorithm.allCases)
    func parity(algorithm: OpenCLSoftmax.Algorithm) throws {
        let backend = try TestDevice.opencl()
        for (group, width) in [(1, 8), (8, 4), (64, 8), (16, 16)] {
            let softmax = try OpenCLSoftmax(
                backend: backend, algorithm: algorithm, workGroup: group, vectorWidth: width)
            for (rows, n) in [(1, 1), (3, 1), (7, 33), (5, 1000), (2, 4097)] {
                for (mask, perRow) in [(false, false), (true, true), (true, false)] {
                    let error = try softmaxError(
                        SoftmaxProblem(rows: rows, n: n, scale: 0.125), mask: mask, maskPerRow: perRow, softmax: softmax
                    )
                    #expect(
                        error <= Self.tolerance,
                        "\(algorithm) wg\(group) vw\(width) \(rows)x\(n) mask \(mask)/\(perRow): \(error)")
                }
            }
        }
    }

    @Test("huge logits (±1e4) stay exact and finite", arguments: OpenCLSoftmax.Algorithm.allCases)
    func hugeLogits(algorithm: OpenCLSoftmax.Algorithm) throws {
        let softmax = try OpenCLSoftmax(backend: TestDevice.opencl(), algorithm: algorithm)
        for magnitude: Float in [100, 1e4] {
            let error = try softmaxError(SoftmaxProblem(rows: 4, n: 300), magnitude: magnitude, softmax: softmax)
            #expect(error <= Self.tolerance, "\(algorithm) ±\(magnitude): \(error)")
        }
    }

    @Test("fully masked rows give zeros, n = 1 gives one", arguments: OpenCLSoftmax.Algorithm.allCases)
    func edgeRows(algorithm: OpenCLSoftmax.Algorithm) throws {
        let backend = try TestDevice.opencl()
        let softmax = try OpenCLSoftmax(backend: backend, algorithm: algorithm, workGroup: 8)
        let x = try DeviceTensor(backend: backend, copying: HostTensor([1, 2, 3, 4, 5, 6]))
        let mask = try DeviceTensor(
            backend: backend, copying: HostTensor([-.infinity, -.infinity, -.infinity, 0, 0, -.infinity]))
        let y = try DeviceTensor(backend: backend, count: 6)
        try softmax.softmax(SoftmaxProblem(rows: 2, n: 3), x: x, mask: mask, y: y)
        let result = try y.download(backend.queue).floats
        #expect(Array(result[0..<3]) == [0, 0, 0])
        #expect(result[5] == 0 && abs(result[3] + result[4] - 1) < 1e-6 && result[4] > result[3])

        let single = try DeviceTensor(backend: backend, count: 3)
        try softmax.softmax(
            SoftmaxProblem(rows: 3, n: 1, scale: 7),
            x: DeviceTensor(backend: backend, copying: HostTensor([-1e4, 0, 1e4])), mask: nil, y: single)
        #expect(try single.download(backend.queue).floats == [1, 1, 1])
    }

    @Test("bad input throws typed errors")
    func badInput() throws {
        let backend = try TestDevice.opencl()
        let softmax = try OpenCLSoftmax(backend: backend)
        let x = try DeviceTensor(backend: backend, count: 12), y = try DeviceTensor(backend: backend, count: 12)
        #expect(throws: OpError.self) { try softmax.softmax(SoftmaxProblem(rows: 3, n: 5), x: x, mask: nil, y: y) }
        #expect(throws: OpError.self) {
            try softmax.softmax(
                SoftmaxProblem(rows: 3, n: 4), x: x, mask: DeviceTensor(backend: backend, count: 5), y: y)
        }
        #expect(throws: OpError.self) { try softmax.softmax(SoftmaxProblem(rows: 0, n: 4), x: x, mask: nil, y: y) }
        #expect(throws: OpError.self) {
            try softmax.softmax(SoftmaxProblem(rows: 3, n: 4, scale: .nan), x: x, mask: nil, y: y)
        }
        #expect(throws: OpError.self) { try OpenCLSoftmax(backend: backend, workGroup: 6) }
        #expect(throws: OpError.self) { try OpenCLSoftmax(backend: backend, vectorWidth: 3) }
        #expect(throws: OpError.self) {
            try CPUSoftmax().softmax(
                SoftmaxProblem(rows: 3, n: 4), x: HostTensor(zeros: 12), mask: HostTensor(zeros: 7),
                y: HostTensor(zeros: 12))
        }
    }
}

extension OpenCLSoftmax.Algorithm: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
