/// GEMM in Swift on the CPU: the fallback for machines without OpenCL and the reference the
/// OpenCL kernels are tested against.
///
/// Correct first: fp32 accumulation in a fixed order per element, multi-threaded over blocks
/// of C, with SIMD dot products for B stored [N, K] and contiguous row updates for B stored
/// [K, N].
public struct CPUGEMM: GEMMOperation {
    public init() {}

    public func gemm(_ problem: GEMMProblem, a: HostTensor, b: HostTensor, c: HostTensor) throws {
        try problem.validate(a: a, b: b, c: c)
        guard case .float32(var output) = c.storage else { return }
        c.storage = .float32([])  // keep `output` uniquely referenced while writing it
        defer { c.storage = .float32(output) }
        let (m, n, k) = (problem.m, problem.n, problem.k)
        // Normalise to A [M, K] and B [N, K] rows so every output is one contiguous dot product.
        let rowsA = problem.transposeA ? transpose(a.floats, rows: k, columns: m) : a.floats
        let rowsB = problem.transposeB ? b.floats : transpose(b.floats, rows: k, columns: n)
        let (alpha, beta) = (problem.alpha, problem.beta)
        let blockRows = max(1, min(16, m / (cpuThreadCount * 4)))
        let blockColumns = m >= cpuThreadCount * 4 ? n : max(1, ceilDiv(n, cpuThreadCount * 8))
        let rowBlocks = ceilDiv(m, blockRows), columnBlocks = ceilDiv(n, blockColumns)
        rowsA.withUnsafeBufferPointer { aRows in
            rowsB.withUnsafeBufferPointer { bRows in
                output.withUnsafeMutableBufferPointer { cOut in
                    let cBase = cOut.baseAddress!
                    parallelFor(rowBlocks * columnBlocks) { block in
                        let row0 = (block / columnBlocks) * blockRows, column0 = (block % columnBlocks) * blockColumns
                        for row in row0..<min(m, row0 + blockRows) {
                            let aRow = aRows.baseAddress! + row * k
                            for column in column0..<min(n, column0 + blockColumns) {
                                let dot = dotProduct(aRow, bRows.baseAddress! + column * k, k)
                                let index = row * n + column
                                cBase[index] = beta == 0 ? alpha * dot : alpha * dot + beta * cBase[index]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Σ x[i]·y[i] with 16-wide SIMD partial sums.
///
/// Multiply then add, not `addProduct`: without an FMA target feature (the generic x86-64
/// build) a fused multiply-add lowers to a libm `fmaf` call per lane, 20× slower.
@inline(__always)
func dotProduct(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
    var sum = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
        let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
        let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
        sum += a * b
        i += 16
    }
    var total = sum.sum()
    while i < count {
        total += x[i] * y[i]
        i += 1
    }
    return total
}

/// The transpose of a row-major `rows`×`columns` matrix.
func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
        values.withUnsafeBufferPointer { input in
            for r in 0..<rows {
                for c in 0..<columns { out[c * rows + r] = input[r * columns + c] }
            }
        }
        initialized = values.count
    }
}
