import ArgumentParser
import ClinferOps
import OpenCLKit

/// `clinfer selftest`: runs every kernel at tiny shapes on the selected device and checks it
/// against the CPU implementation. `make check-kernels` runs it under oclgrind, which reports
/// out-of-bounds accesses and data races; small shapes keep the simulator fast.
struct SelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest", abstract: "Run every kernel at tiny shapes and compare with the CPU implementation.")

    @OptionGroup var deviceOptions: DeviceOptions

    func run() throws {
        let backend = try deviceOptions.backend()
        progress("self-test on \(backend.device)")
        var failures = 0
        for check in KernelSelfTest.checks {
            do {
                let error = try check.run(backend)
                let ok = error <= check.tolerance
                if !ok { failures += 1 }
                print("\(ok ? "ok  " : "FAIL") \(check.name): relative error \(error)")
            } catch {
                failures += 1
                print("FAIL \(check.name): \(error)")
            }
        }
        print("\(KernelSelfTest.checks.count - failures) passed, \(failures) failed")
        if failures > 0 { throw ExitCode(1) }
    }
}
