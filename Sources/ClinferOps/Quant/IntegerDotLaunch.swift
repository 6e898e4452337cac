import OpenCLKit

/// The launch shape of the integer-dot decode GEMV (`Kernels/quant_gemv_dot.cl`): work-groups of
/// several row sets, so that each group quantizes x into local memory once for many weight rows,
/// and enough groups to give every compute unit two.
struct IntegerDotLaunch {
    let global: [Int]
    let local: [Int]
    /// The kernel's three `__local` arguments: quantized x, its block scales, sums and sums of
    /// squares, and the partial sums of the lanes along K.
    let localMemory: [any KernelArgument]

    /// Row sets per work-group at most: bounds the group's share of one GEMV.
    static let maxSetsPerGroup = 64

    /// Nil where the device's local memory cannot hold `rows` rows of quantized x (then the
    /// exact-activation GEMV runs).
    init?(
        _ config: QuantGEMVConfig, device: Device, bits: Int, rows: Int, columns k: Int, outputs: Int,
        rowsPerPass: Int, rowsPerItem: Int, gated: Bool
    ) {
        let lanes = config.lanesPerRow
        let sets = (outputs + rowsPerItem - 1) / rowsPerItem
        let byGroups = max(1, sets / (2 * device.computeUnits))
        let perGroup = max(1, min(Self.maxSetsPerGroup, byGroups, device.maxWorkGroupSize / lanes))
        // Rows of whole chunks (4 blocks of int8 or 2 of int16: 128 bytes; fp32 a block at a time).
        let chunk = bits == 8 ? 128 : bits == 16 ? 64 : 32
        let quantized = rows * ((k + chunk - 1) / chunk * chunk) * bits / 8
        let scales = 3 * rows * (k / 32) * MemoryLayout<Float>.size
        let partials = lanes > 1 ? lanes * perGroup * (gated ? 2 : 1) * rowsPerItem * rowsPerPass * 4 : 4
        guard k % 32 == 0, quantized + scales + partials <= device.localMemoryBytes else { return nil }
        global = [lanes, (sets + perGroup - 1) / perGroup * perGroup]
        local = [lanes, perGroup]
        localMemory = [LocalMemory(bytes: quantized), LocalMemory(bytes: scales), LocalMemory(bytes: partials)]
    }
}
