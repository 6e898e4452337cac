import ClinferOps
import Foundation
import OpenCLKit

/// The device's global memory bandwidth that bandwidth-bound kernels are reported against:
/// clpeak's best `--global-bandwidth` figure when clpeak is installed, and Clinfer's own read
/// probe (`Kernels/bandwidth.cl`) always.
struct DeviceBandwidth {
    /// Bytes per second from clpeak, if it ran and reported this device.
    var clpeak: Double?
    /// Bytes per second from `BandwidthProbe`.
    var probe: Double

    /// The reference: clpeak when available, else the probe.
    var reference: Double { clpeak ?? probe }
    var source: String { clpeak == nil ? "Clinfer read probe" : "clpeak global bandwidth" }

    static func measure(_ backend: OpenCLBackend) throws -> DeviceBandwidth {
        progress("measuring the device's read bandwidth…")
        let probe = try BandwidthProbe(backend: backend).readBytesPerSecond()
        return DeviceBandwidth(clpeak: clpeakBandwidth(deviceName: backend.device.name), probe: probe)
    }

    /// Runs `clpeak --global-bandwidth` and returns its best figure for the named device.
    static func clpeakBandwidth(deviceName: String) -> Double? {
        let path = ["/usr/bin/clpeak", "/usr/local/bin/clpeak"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let path else { return nil }
        progress("running clpeak --global-bandwidth…")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--global-bandwidth"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var inDevice = false, best: Double?
        for line in output.split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("Device:") { inDevice = text.contains(deviceName) }
            guard inDevice, text.hasPrefix("float"),
                let value = text.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) })
            else { continue }
            best = max(best ?? 0, value * 1e9)
        }
        return best
    }
}
