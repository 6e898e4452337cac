/// Access to the OpenCL C sources under `Kernels/`, embedded at build time by the
/// KernelEmbedder plugin (see `EmbeddedKernels`).
public enum KernelSource {
    /// The shared helpers prepended to every kernel file (embedded sources cannot `#include`).
    public static let preludeFile = "clinfer_common.h"

    /// The source of `file` (e.g. `gemm_tiled.cl`) with the shared prelude prepended, or nil
    /// if no such file was embedded.
    public static func source(_ file: String) -> String? {
        guard let body = EmbeddedKernels.sources[file] else { return nil }
        let prelude = EmbeddedKernels.sources[preludeFile] ?? ""
        return prelude + "\n#line 1\n" + body
    }

    /// Names of every embedded kernel file (excluding headers).
    public static var files: [String] {
        EmbeddedKernels.sources.keys.filter { $0.hasSuffix(".cl") }.sorted()
    }
}
