/// Access to the OpenCL C sources under `Kernels/`, embedded at build time by the
/// KernelEmbedder plugin (see `EmbeddedKernels`).
///
/// Embedded sources cannot `#include` each other, so headers are prepended here, by convention:
/// every kernel file gets `clinfer_common.h`, then the header of its family if one exists
/// (`gemm_tiled.cl` gets `gemm_common.h`: the name up to the first `_`, plus `_common.h`).
public enum KernelSource {
    /// The helpers prepended to every kernel file.
    public static let prelude = "clinfer_common.h"

    /// The headers prepended to `file`, in order.
    public static func headers(for file: String) -> [String] {
        var headers = [prelude]
        if let family = file.split(separator: "_").first, file.contains("_") {
            let familyHeader = "\(family)_common.h"
            if EmbeddedKernels.sources[familyHeader] != nil { headers.append(familyHeader) }
        }
        return headers
    }

    /// The source of `file` (e.g. `gemm_tiled.cl`) after its headers, or nil if no such file
    /// was embedded.
    public static func source(_ file: String) -> String? {
        guard file.hasSuffix(".cl"), let body = EmbeddedKernels.sources[file] else { return nil }
        var text = ""
        for header in headers(for: file) {
            text += "// ---- \(header)\n\(EmbeddedKernels.sources[header]!)\n"
        }
        return text + "// ---- \(file)\n#line 1 \"\(file)\"\n\(body)\n"
    }

    /// The `__kernel` functions `file` defines, in source order (empty for an unknown file).
    public static func kernels(in file: String) -> [String] {
        KernelFunction.all.filter { $0.file == file }.map(\.name)
    }

    /// Names of every embedded kernel file (headers excluded).
    public static var files: [String] {
        EmbeddedKernels.sources.keys.filter { $0.hasSuffix(".cl") }.sorted()
    }
}
