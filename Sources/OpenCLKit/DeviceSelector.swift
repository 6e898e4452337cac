import Foundation

/// Which OpenCL device to use when several exist.
///
/// The environment variable `CLINFER_DEVICE` holds either a device index (as listed by
/// `clinfer devices`) or a case-insensitive substring of the device or platform name.
public enum DeviceSelector: Sendable, Hashable {
    /// The first GPU if there is one, else the first device of any type.
    case automatic
    /// The device at this index in ``OpenCL/devices()``.
    case index(Int)
    /// The first device whose name or platform name contains this text (case-insensitive).
    case name(String)

    /// `CLINFER_DEVICE` if set, else ``automatic``.
    public static var fromEnvironment: DeviceSelector {
        guard let value = ProcessInfo.processInfo.environment["CLINFER_DEVICE"], !value.isEmpty else {
            return .automatic
        }
        return DeviceSelector(parsing: value)
    }

    /// Parses an index or a name fragment.
    public init(parsing text: String) {
        if let index = Int(text) { self = .index(index) } else { self = .name(text) }
    }

    /// The selected device among `devices`, or `nil`.
    public func select(from devices: [Device]) -> Device? {
        switch self {
        case .automatic:
            return devices.first { $0.type == .gpu } ?? devices.first
        case .index(let index):
            return devices.indices.contains(index) ? devices[index] : nil
        case .name(let fragment):
            let needle = fragment.lowercased()
            return devices.first {
                $0.name.lowercased().contains(needle) || $0.platformName.lowercased().contains(needle)
            }
        }
    }
}
