import ArgumentParser
import Foundation
import OpenCLKit

/// `clinfer devices`: every OpenCL platform and device with the limits kernels are sized from.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List OpenCL platforms and devices with their limits and extensions.")

    @Flag(help: "Also list each device's extensions.")
    var extensions = false

    func run() throws {
        let platforms = try OpenCL.platforms()
        if platforms.isEmpty {
            print("No OpenCL platform found. On Debian/Ubuntu: apt-get install pocl-opencl-icd ocl-icd-opencl-dev")
            throw ExitCode(1)
        }
        var index = 0
        for platform in platforms {
            print("Platform: \(platform.name) — \(platform.vendor) — \(platform.version)")
            for device in platform.devices {
                print("  [\(index)] \(device.name) (\(device.type.rawValue))")
                print(
                    "      version         \(device.version); OpenCL C \(device.openCLCVersion); driver \(device.driverVersion)"
                )
                print("      compute units   \(device.computeUnits) @ \(device.maxClockMHz) MHz")
                print(
                    "      global memory   \(mebibytes(device.globalMemoryBytes)) (max allocation \(mebibytes(device.maxAllocationBytes)))"
                )
                print("      local memory    \(device.localMemoryBytes / 1024) KiB")
                print("      work-group      max \(device.maxWorkGroupSize), item sizes \(device.maxWorkItemSizes)")
                print("      float vectors   preferred width \(device.preferredFloatVectorWidth)")
                print(
                    "      fp16 arithmetic \(device.supportsFP16Arithmetic ? "yes" : "no (fp16 storage via vload_half)"); fp64 \(device.supportsFP64 ? "yes" : "no"); subgroups \(device.supportsSubgroups ? "yes" : "no")"
                )
                if extensions { print("      extensions      \(device.extensions.sorted().joined(separator: " "))") }
                index += 1
            }
        }
    }

    private func mebibytes(_ bytes: Int) -> String { "\(bytes >> 20) MiB" }
}
