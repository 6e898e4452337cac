import Foundation
import OpenCLKit

/// Where ops run: on an OpenCL device, or on the CPU fallback written in Swift.
public enum ComputeTarget: Sendable {
    case opencl(OpenCLBackend)
    case cpu

    /// Which backend the user asked for.
    public enum Preference: String, Sendable, CaseIterable {
        /// OpenCL when a device exists, else the CPU.
        case automatic = "auto"
        case opencl
        case cpu

        /// `CLINFER_BACKEND` (auto, opencl or cpu), defaulting to automatic.
        public static var fromEnvironment: Preference {
            ProcessInfo.processInfo.environment["CLINFER_BACKEND"].flatMap(Preference.init(rawValue:)) ?? .automatic
        }
    }

    /// Resolves `preference`. Asking for OpenCL explicitly on a machine without a device throws.
    public static func select(
        _ preference: Preference = .fromEnvironment, device: DeviceSelector = .fromEnvironment
    ) throws -> ComputeTarget {
        switch preference {
        case .cpu:
            return .cpu
        case .automatic:
            return try OpenCLBackend.make(device).map(ComputeTarget.opencl) ?? .cpu
        case .opencl:
            guard let backend = try OpenCLBackend.make(device) else {
                throw CLError(
                    code: CLError.deviceNotFound, call: "ComputeTarget.select",
                    detail: "no OpenCL device matches \(device)")
            }
            return .opencl(backend)
        }
    }
}
