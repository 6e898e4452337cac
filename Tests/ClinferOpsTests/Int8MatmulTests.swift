import ClinferOps
import OpenCLKit
import Testing

/// Kernels/int8_matmul.cl against the CPU int8 reference.
@Suite("LLM.int8(): int8 matmul with outlier decomposition")
struct Int8MatmulTests {
    @Test("OpenCL equals the CPU reference on odd shapes, with and without decomposition", arguments: [Float(6), 0])
    func parity(threshold: Float) throws {
        let backend = try TestDevice.opencl()
        let matmuls = [
            try OpenCLInt8Matmul(backend: backend),
            try OpenCLInt8Matmul(backend: backend, vectorWidth: 4, outputsPerItem: 1, rowGroupSize: 8),
        ]
        for matmul in matmuls {
            for (m, n, k) in [(1, 1, 1), (1, 33, 100), (3, 7, 33), (17, 1000, 64), (100, 20, 129)] {
                let error = try int8MatmulError(
                    m: m, n: n, k: k, threshold: threshold, backend: backend, matmul: matmul)
                #expect(error <= 1e-5, "\(m)x\(n)x\(k) t=\(threshold): relative error \(error)")
            }
        }
    }

    @Test("with outliers present, decomposition error is far below plain int8 error")
    func decompositionHelps() throws {
        let (m, n, k) = (8, 64, 256)
        let w = SplitMix64.floats(n * k, seed: 31)
        // 4 outlier columns of 256 reaching ±60: plain int8 steps by 60/127 on every column.
        let x = activationsWithOutliers(rows: m, columns: k, outlierEvery: 64, magnitude: 60, seed: 32)
        var exact = [Float](repeating: 0, count: m * n)
        for row in 0..<m {
            for column in 0..<n { for i in 0..<k { exact[row * n + column] += x[row * k + i] * w[column * k + i] } }
        }
        let weights = try Int8Matrix(quantizing: w, rows: n, columns: k)
        func error(_ threshold: Float) throws -> Float {
            let y = HostTensor(zeros: m * n)
            try CPUInt8Matmul().matmul(x: HostTensor(x), weights: weights, y: y, rows: m, threshold: threshold)
            return maxRelativeError(y.floats, exact)
        }
        let decomposed = try error(6), plain = try error(0)
        #expect(decomposed * 5 < plain, "decomposed \(decomposed) vs plain int8 \(plain)")
        #expect(decomposed < 0.01)
    }

    @Test("bad input throws typed errors")
    func badInput() throws {
        let backend = try TestDevice.opencl()
        #expect(throws: OpError.self) { try Int8Matrix(quantizing: [1, 2, 3], rows: 2, columns: 2) }
        #expect(throws: OpError.self) { try OpenCLInt8Matmul(backend: backend, vectorWidth: 3) }
        #expect(throws: OpError.self) { try OpenCLInt8Matmul(backend: backend, rowGroupSize: 6) }
        let matmul = try OpenCLInt8Matmul(backend: backend)
        let weights = try DeviceInt8Matrix(
            backend: backend, copying: Int8Matrix(quantizing: [Float](repeating: 1, count: 8), rows: 2, columns: 4))
        #expect(throws: OpError.self) {
            try matmul.matmul(
                x: DeviceTensor(backend: backend, count: 5), weights: weights,
                y: DeviceTensor(backend: backend, count: 2), rows: 1)
        }
        #expect(throws: OpError.self) {
            try matmul.matmul(
                x: DeviceTensor(backend: backend, count: 4, type: .float16), weights: weights,
                y: DeviceTensor(backend: backend, count: 2), rows: 1)
        }
        #expect(throws: OpError.self) {
            try matmul.matmul(
                x: DeviceTensor(backend: backend, count: 4), weights: weights,
                y: DeviceTensor(backend: backend, count: 2), rows: 1, threshold: -1)
        }
    }
}
