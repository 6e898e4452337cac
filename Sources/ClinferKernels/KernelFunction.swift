/// One `__kernel` function of the files under `Kernels/`: its name and the file defining it.
///
/// The KernelEmbedder plugin generates a constant for each (`KernelFunction.gemmPackB`), so a
/// renamed or removed kernel is a compile error in the Swift that launches it, not a run-time
/// "no such kernel".
public struct KernelFunction: Sendable, Hashable, CustomStringConvertible {
    /// The function's name in the OpenCL C source (`gemm_pack_b`).
    public let name: String
    /// The file under `Kernels/` that defines it (`gemm_pack.cl`).
    public let file: String

    public var description: String { "\(name) (\(file))" }
}
