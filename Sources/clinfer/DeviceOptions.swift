import ArgumentParser
import ClinferOps
import OpenCLKit

/// `--device`: which OpenCL device a command runs on.
struct DeviceOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "Device index (see `clinfer devices`) or a name fragment; default: $CLINFER_DEVICE, else the first GPU, else the first device."
    )
    var device: String?

    var selector: DeviceSelector { device.map(DeviceSelector.init(parsing:)) ?? .fromEnvironment }

    /// The backend on the selected device; a clear error when there is none.
    func backend() throws -> OpenCLBackend {
        guard let backend = try OpenCLBackend.make(selector) else {
            throw ValidationError(
                "no OpenCL device matches \(selector); `clinfer devices` lists them (install pocl-opencl-icd for a CPU device)"
            )
        }
        return backend
    }
}
