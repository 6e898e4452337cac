import CPeers
import ClinferOps
import Dispatch
import OpenCLKit

/// The median wall-clock seconds of `body` over `repetitions` runs, after one warm-up run.
func medianWallSeconds(repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<max(1, repetitions) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    return median(times)
}

/// The GEMM peers measured beside ours: CLBlast on the same OpenCL device and OpenBLAS on the
/// host CPU, both loaded with dlopen when installed.
enum Peer: String, CaseIterable {
    case clblast, openblas

    var isAvailable: Bool {
        switch self {
        case .clblast: cpeers_clblast_available() != 0
        case .openblas: cpeers_cblas_available() != 0
        }
    }

    /// What to install when the peer is missing.
    var installHint: String {
        switch self {
        case .clblast: "apt-get install libclblast-dev"
        case .openblas: "apt-get install libopenblas0"
        }
    }

    /// Median wall-clock seconds of one GEMM of `workload` (every peer is timed the way ours is
    /// in compare mode: wall clock around a finished queue), and its relative error.
    func measure(
        _ workload: GEMMTimer.Workload, backend: OpenCLBackend, repetitions: Int
    ) throws -> (seconds: Double, error: Float?) {
        let problem = workload.problem
        let (m, n, k) = (problem.m, problem.n, problem.k)
        let ldb = problem.transposeB ? k : n
        switch self {
        case .clblast:
            let operands = workload.deviceOperands
            guard case .float32(let a) = operands.a.storage, case .float32(let b) = operands.b.storage,
                case .float32(let c) = operands.c.storage
            else { throw OpError.unsupportedType(op: "clblast", detail: "f32 only") }
            let run = {
                let status = cpeers_clblast_sgemm(
                    0, problem.transposeB ? 1 : 0, m, n, k, 1, a.handle, k, b.handle, ldb, 0,
                    c.handle, n, backend.queue.handle, nil)
                guard status == 0 else {
                    throw CLError(code: status, call: "CLBlastSgemm", detail: "CLBlast status \(status)")
                }
                try backend.queue.finish()
            }
            try backend.queue.finish()
            let seconds = try medianWallSeconds(repetitions: repetitions, run)
            let error = try workload.reference.map {
                maxRelativeError(try operands.c.download(backend.queue).floats, $0)
            }
            return (seconds, error)
        case .openblas:
            var c = [Float](repeating: 0, count: m * n)
            let seconds = medianWallSeconds(repetitions: repetitions) {
                cpeers_cblas_sgemm(
                    0, problem.transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), 1, workload.hostA, Int32(k),
                    workload.hostB, Int32(ldb), 0, &c, Int32(n))
            }
            return (seconds, workload.reference.map { maxRelativeError(c, $0) })
        }
    }
}
