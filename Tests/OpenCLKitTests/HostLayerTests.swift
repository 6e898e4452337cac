import ClinferKernels
import Foundation
import OpenCLKit
import Testing

/// One context and queue for the whole process (discovery itself happens once, in OpenCLKit).
enum Shared {
    static let setup: Result<(Context, CommandQueue), any Error> = Result {
        guard let device = try OpenCL.device() else {
            throw CLError(
                code: CLError.deviceNotFound, call: "tests",
                detail: "no OpenCL device: install pocl-opencl-icd (see README)")
        }
        let context = try Context(device: device)
        return (context, try CommandQueue(context: context))
    }
    static func context() throws -> Context { try setup.get().0 }
    static func queue() throws -> CommandQueue { try setup.get().1 }
}

@Suite("OpenCL host layer")
struct HostLayerTests {
    @Test("discovery finds a device with sane limits")
    func discovery() throws {
        let devices = try OpenCL.devices()
        #expect(!devices.isEmpty, "no OpenCL device found")
        for device in devices {
            #expect(!device.name.isEmpty)
            #expect(device.maxWorkGroupSize >= 1)
            #expect(device.maxWorkItemSizes.count >= 3)
            #expect(device.globalMemoryBytes > 0)
            #expect(device.localMemoryBytes > 0)
            #expect(device.computeUnits >= 1)
        }
    }

    @Test("discovery from many threads at once returns the same devices")
    func concurrentDiscovery() async throws {
        let expected = try OpenCL.devices().map(\.name)
        try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { try OpenCL.devices().map(\.name) } }
            for try await names in group { #expect(names == expected) }
        }
    }

    @Test("device selector by index, name and automatic")
    func selector() throws {
        let devices = try OpenCL.devices()
        #expect(DeviceSelector.index(0).select(from: devices) == devices.first)
        #expect(DeviceSelector.index(devices.count).select(from: devices) == nil)
        #expect(DeviceSelector(parsing: String(devices[0].name.prefix(4)).uppercased()).select(from: devices) != nil)
        #expect(DeviceSelector.name("no-such-device-anywhere").select(from: devices) == nil)
        #expect(DeviceSelector.automatic.select(from: devices) != nil)
    }

    @Test("buffers round-trip, including sub-buffers and fills")
    func bufferRoundTrip() throws {
        let context = try Shared.context(), queue = try Shared.queue()
        let values = (0..<1000).map { Float($0) * 0.5 - 7 }
        let buffer = try context.buffer(copying: values)
        #expect(try queue.read(buffer) == values)

        let alignment = max(1, context.device.baseAddressAlignment / MemoryLayout<Float>.stride)
        let sub = try buffer.subBuffer(offset: alignment, count: 10)
        #expect(try queue.read(sub) == Array(values[alignment..<alignment + 10]))
        try queue.write([Float](repeating: 42, count: 10), to: sub)
        let whole = try queue.read(buffer)
        #expect(Array(whole[alignment..<alignment + 10]) == [Float](repeating: 42, count: 10))
        #expect(whole[alignment - 1] == values[alignment - 1] && whole[alignment + 10] == values[alignment + 10])

        let halves = try context.buffer(Float16.self, count: 5)
        try queue.fill(halves, with: 1.5)
        #expect(try queue.read(halves) == [Float16](repeating: 1.5, count: 5))
    }

    @Test("bad buffer requests throw typed errors")
    func badBuffers() throws {
        let context = try Shared.context(), queue = try Shared.queue()
        #expect(throws: CLError.self) { try context.buffer(Float.self, count: 0) }
        #expect(throws: CLError.self) { try context.buffer(Float.self, count: Int.max / 2) }
        let buffer = try context.buffer(Float.self, count: 8)
        #expect(throws: CLError.self) { try buffer.subBuffer(offset: 4, count: 8) }
        #expect(throws: CLError.self) { try queue.write([Float](repeating: 0, count: 9), to: buffer) }
        #expect(throws: CLError.self) { try queue.read(buffer, count: 9) }
        if context.device.baseAddressAlignment > 4 {
            let error = #expect(throws: CLError.self) { try buffer.subBuffer(offset: 1, count: 2) }
            #expect(error?.name == "CL_MISALIGNED_SUB_BUFFER_OFFSET")
        }
    }

    @Test("a build error carries CL_BUILD_PROGRAM_FAILURE and the compiler's log")
    func buildErrorLog() throws {
        let context = try Shared.context()
        let source = "__kernel void broken(__global float *x) { x[0] = undeclared_name; }"
        let error = #expect(throws: CLError.self) { try Program(context: context, source: source) }
        #expect(error?.code == CLError.buildProgramFailure)
        #expect(error?.name == "CL_BUILD_PROGRAM_FAILURE")
        #expect(error?.detail?.contains("undeclared_name") == true, "build log: \(error?.detail ?? "nil")")
    }

    @Test("error names come from the OpenCL constants")
    func errorNames() {
        #expect(CLError(code: -5, call: "x").name == "CL_OUT_OF_RESOURCES")
        #expect(CLError(code: -46, call: "x").name == "CL_INVALID_KERNEL_NAME")
        #expect(CLError(code: -1001, call: "x").name == "CL_PLATFORM_NOT_FOUND_KHR")
        #expect(CLError(code: -12345, call: "x").name == "CL_UNKNOWN_ERROR(-12345)")
        #expect(
            CLError(code: -54, call: "clEnqueueNDRangeKernel", detail: "why").description
                == "clEnqueueNDRangeKernel failed: CL_INVALID_WORK_GROUP_SIZE (-54)\nwhy")
    }

    static let scaleSource = """
        __kernel void scale(__global float *x, const float factor, const int n) {
            int i = get_global_id(0);
            if (i < n) x[i] *= factor;
        }
        """

    @Test("kernels launch with typed arguments; events report device time and complete asynchronously")
    func kernelLaunch() async throws {
        let context = try Shared.context(), queue = try Shared.queue()
        let program = try Program(context: context, source: Self.scaleSource)
        let kernel = try program.kernel("scale")
        #expect(try kernel.maxWorkGroupSize() >= 1)
        let buffer = try context.buffer(copying: [Float](repeating: 2, count: 100))
        let event = try queue.enqueue(kernel, global: [128], arguments: [buffer, Float(3), Int32(100)])
        try await event.completion()
        #expect(try event.deviceSeconds() >= 0)
        #expect(try queue.read(buffer) == [Float](repeating: 6, count: 100))

        let unknown = #expect(throws: CLError.self) { try program.kernel("nope") }
        #expect(unknown?.name == "CL_INVALID_KERNEL_NAME")
        let badLocal = #expect(throws: CLError.self) {
            try queue.enqueue(kernel, global: [100], local: [64], arguments: [buffer, Float(1), Int32(100)])
        }
        #expect(badLocal?.code == CLError.invalidWorkGroupSize)
    }

    @Test("program cache: a warm start loads the binary instead of compiling; a corrupt file is rebuilt")
    func programCache() throws {
        let context = try Shared.context()
        let directory = FileManager.default.temporaryDirectory.appending(
            path: "clinfer-cache-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = ProgramCache(directory: directory)
        let options = "-DUNUSED=\(UInt32.random(in: 0...UInt32.max))"

        let cold = try Program(context: context, source: Self.scaleSource, options: options, cache: cache)
        #expect(cold.origin == .compiled)
        let warm = try Program(context: context, source: Self.scaleSource, options: options, cache: cache)
        #expect(warm.origin == .diskCache)
        _ = try warm.kernel("scale")

        let other = try Program(
            context: context, source: Self.scaleSource, options: options + " -DOTHER=1", cache: cache)
        #expect(other.origin == .compiled, "different options must not hit the cache")

        for file in try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil) {
            try Data("garbage".utf8).write(to: file)
        }
        let rebuilt = try Program(context: context, source: Self.scaleSource, options: options, cache: cache)
        #expect(rebuilt.origin == .compiled)
        let again = try Program(context: context, source: Self.scaleSource, options: options, cache: cache)
        #expect(again.origin == .diskCache, "the rebuilt binary is written back")
    }

    @Test("every embedded kernel file compiles with its defaults")
    func embeddedKernelsCompile() throws {
        let context = try Shared.context()
        #expect(KernelSource.files.contains("gemm_tiled.cl"))
        for file in KernelSource.files {
            #expect(KernelSource.headers(for: file).first == KernelSource.prelude)
            let source = try #require(KernelSource.source(file))
            _ = try Program(context: context, source: source)
        }
        #expect(KernelSource.source("missing.cl") == nil)
        #expect(KernelSource.headers(for: "gemm_tiled.cl") == ["clinfer_common.h", "gemm_common.h"])
    }
}
