import ClinferOps
import OpenCLKit
import Testing

/// One backend (context and in-order queue) per device per process, so no kernel ever runs on
/// two queues at once. Regression test for the PoCL 3.1 abort seen in a fresh-clone CI run
/// (`pocl_release_dlhandle_cache: Assertion 'found->ref_count > 0' failed`): two launches of a
/// kernel with a small grid in flight, then one with a wider grid than any before, on different
/// queues. With a backend per caller, this test aborts the whole test process.
@Suite("Device sharing")
struct DeviceSharingTests {
    @Test("every caller on a device gets the same backend, context and queue")
    func sameBackend() throws {
        let first = try #require(try OpenCLBackend.make())
        let second = try #require(try OpenCLBackend.make())
        #expect(first === second)
        #expect(first.queue === second.queue)
        #expect(try OpenCLBackend.shared(for: first.device) === first)
    }

    @Test("small launches in flight while a wider one first runs stay correct", arguments: 0..<4)
    func concurrentWideningLaunches(round: Int) throws {
        // Every work-item sums a run of 2^18 floats, so each small launch keeps the device busy
        // for milliseconds. A fresh build option gives the kernel a hash PoCL has never seen; the
        // small callers launch first, then the wide launch is the first of its grid width while
        // small ones are in flight: the pattern that broke PoCL's reference count when each
        // caller had its own queue.
        let options = "-DVW=16 -DITEMS_PER_WI=16384 -DCLINFER_SHARING_PROBE=\(UInt64.random(in: 1...UInt64.max))"
        let run = 16 * 16384, filled = 32
        struct Caller: Sendable {
            let backend: OpenCLBackend, kernel: Kernel, source: Buffer<Float>, sums: Buffer<Float>, items: Int
            init(items: Int, options: String, values: Int) throws {
                backend = try #require(try OpenCLBackend.make())
                kernel = try backend.kernel(.bandwidthRead, options: options)
                source = try backend.context.buffer(copying: [Float](repeating: 1, count: values))
                sums = try backend.context.buffer(copying: [Float](repeating: -1, count: items))
                self.items = items
            }
            func launch(_ count: Int, values: Int) throws {
                for _ in 0..<count {
                    try backend.queue.enqueue(
                        kernel, global: [items], local: [8], arguments: [source, Int32(values), sums])
                    try backend.queue.flush()
                }
            }
        }
        let small = try (0..<2).map { _ in try Caller(items: filled, options: options, values: filled * run) }
        let wide = try Caller(items: 4096, options: options, values: filled * run)
        for caller in small {
            try caller.launch(1, values: filled * run)
            try caller.backend.queue.finish()
        }
        // Both small launches in flight, then the wide one: one after another from this task, as
        // three callers on their own threads would interleave.
        for caller in small { try caller.launch(1, values: filled * run) }
        try wide.launch(1, values: filled * run)
        for caller in small + [wide] {
            let result = try caller.backend.queue.read(caller.sums)
            #expect(result.prefix(filled).allSatisfy { $0 == Float(run) })
            #expect(result.dropFirst(filled).allSatisfy { $0 == -1 })
        }
    }
}
