import OpenCLKit

/// Parameters of the decode GEMV (`Kernels/quant_gemv.cl`), which reads the `blocks` layout with
/// one work-item streaming `rowsPerItem` weight rows (CPU drivers) or `lanesPerRow` work-items
/// sharing them along K with a local-memory reduction (GPUs).
public struct QuantGEMVConfig: Sendable, Hashable, CustomStringConvertible {
    /// Weight rows per work-item when x has one row (`R`); fewer when several rows of x share a
    /// pass, so that rows × x-rows accumulators stay within ``accumulators``.
    public var rowsPerItem: Int
    /// Work-items per row set along K (`LK`, the work-group size): 1 on CPUs.
    public var lanesPerRow: Int

    /// 16-wide accumulators a work-item keeps (8 fit a CPU's 32 vector registers with room for
    /// the decoded weights and x).
    public static let accumulators = 8
    /// Rows of x per pass over the weights, at most.
    public static let maxRowsPerPass = 8

    public init(rowsPerItem: Int, lanesPerRow: Int) {
        self.rowsPerItem = rowsPerItem
        self.lanesPerRow = lanesPerRow
    }

    /// Measured on PoCL (2-core Zen 4, `Benchmarks/`-style back-to-back launches): 4-bit 4096×4096
    /// at 0.58 ms with 4 rows per work-item against 0.70 ms with 1 and 0.85 ms with 8; Q8_0 at
    /// 0.56 ms with 1 row (more rows measured slower on the 49152-row output head). On GPUs a
    /// 32-lane work-group per row reads each row's blocks coalesced.
    public static func defaults(for format: QuantFormat, device: Device) -> QuantGEMVConfig {
        guard device.type != .cpu else {
            return QuantGEMVConfig(rowsPerItem: format.deviceEncoding == .nibbles ? 4 : 1, lanesPerRow: 1)
        }
        return QuantGEMVConfig(rowsPerItem: 1, lanesPerRow: min(32, device.maxWorkGroupSize))
    }

    /// Rows of x per pass and output rows per work-item for `m` rows of x (`gated`: each output
    /// row reads two weight rows, gate and up).
    func launchShape(rows m: Int, gated: Bool = false) -> (rowsPerPass: Int, rowsPerItem: Int) {
        let perPass = min(nextPowerOfTwo(max(m, 1)), Self.maxRowsPerPass)
        return (perPass, max(1, min(rowsPerItem, Self.accumulators / (perPass * (gated ? 2 : 1)))))
    }

    /// Throws unless the device can run this configuration.
    func validate(for device: Device) throws(OpError) {
        guard rowsPerItem >= 1, rowsPerItem <= 16, lanesPerRow >= 1, lanesPerRow <= device.maxWorkGroupSize else {
            throw OpError.invalidConfiguration(
                kernel: "quant_gemv",
                detail: "\(self): needs 1…16 rows per work-item and 1…\(device.maxWorkGroupSize) lanes per row")
        }
    }

    public var description: String { "gemv r\(rowsPerItem) lk\(lanesPerRow)" }
}
