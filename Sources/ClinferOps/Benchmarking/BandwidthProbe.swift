import OpenCLKit

/// Measures how fast a device reads its global memory, with `Kernels/bandwidth.cl`.
///
/// Decode speed is bounded by reading the weights once per token, so GEMV and decode
/// benchmarks report their effective bandwidth as a fraction of this number.
package struct BandwidthProbe: Sendable {
    package let backend: OpenCLBackend

    package init(backend: OpenCLBackend) { self.backend = backend }

    /// The median read bandwidth in bytes per second over `repetitions` passes over `bytes`
    /// of memory (default 256 MiB, capped by the device's allocation limit).
    package func readBytesPerSecond(bytes: Int = 256 << 20, repetitions: Int = 7) throws -> Double {
        let vw = 16, itemsPerWorkItem = 16
        let count = min(bytes, backend.device.maxAllocationBytes / 2) / 4
        let items = ceilDiv(count, vw * itemsPerWorkItem)
        let source = try backend.context.buffer(Float.self, count: count, access: .readOnly)
        try backend.queue.fill(source, with: 1)
        let sums = try backend.context.buffer(Float.self, count: items, access: .writeOnly)
        let kernel = try backend.kernel(.bandwidthRead, options: "-DVW=\(vw) -DITEMS_PER_WI=\(itemsPerWorkItem)")
        let launch = { () throws -> Event in
            try backend.queue.enqueue(kernel, global: [items], arguments: [source, Int32(count), sums])
        }
        try launch().wait()
        let times = try (0..<max(1, repetitions)).map { _ in try launch().deviceSeconds() }
        return Double(count * 4) / median(times)
    }

    /// Sums `values` with the probe kernel (a correctness check of the kernel itself).
    package func sum(_ values: [Float], vectorWidth: Int = 4, itemsPerWorkItem: Int = 3) throws -> Float {
        let items = ceilDiv(values.count, vectorWidth * itemsPerWorkItem)
        let source = try backend.context.buffer(copying: values, access: .readOnly)
        let sums = try backend.context.buffer(Float.self, count: items)
        let kernel = try backend.kernel(
            .bandwidthRead, options: "-DVW=\(vectorWidth) -DITEMS_PER_WI=\(itemsPerWorkItem)")
        try backend.queue.enqueue(kernel, global: [items], arguments: [source, Int32(values.count), sums])
        return try backend.queue.read(sums).reduce(0, +)
    }
}
