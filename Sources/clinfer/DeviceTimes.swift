import OpenCLKit

/// Launches and device seconds per kernel name over recorded launches.
struct DeviceTimes {
    var byKernel: [String: (count: Int, seconds: Double)] = [:]

    init(_ launches: [LaunchRecorder.Launch]) {
        for launch in launches {
            byKernel[launch.kernel, default: (0, 0)].count += 1
            byKernel[launch.kernel, default: (0, 0)].seconds += (try? launch.event.deviceSeconds()) ?? 0
        }
    }

    private init(byKernel: [String: (count: Int, seconds: Double)]) { self.byKernel = byKernel }

    static func - (all: DeviceTimes, part: DeviceTimes) -> DeviceTimes {
        var rest = all.byKernel
        for (name, entry) in part.byKernel {
            rest[name, default: (0, 0)].count -= entry.count
            rest[name, default: (0, 0)].seconds -= entry.seconds
        }
        return DeviceTimes(byKernel: rest.filter { $0.value.count > 0 })
    }
}
