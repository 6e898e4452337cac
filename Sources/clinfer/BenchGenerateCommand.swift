import ArgumentParser
import ClinferEngine
import ClinferOps
import Foundation
import OpenCLKit

/// `clinfer bench generate`: prompt (prefill) and decode speed of a model, the median of several
/// runs, with decode's weight traffic against the device's read bandwidth measured in the same
/// run. Benchmarks/generate-vs-llamacpp.sh puts llama.cpp's numbers beside it.
struct BenchGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Prefill and decode tok/s of a GGUF model.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Prompt tokens.")
    var promptTokens = 256

    @Option(name: .long, help: "Generated tokens per run.")
    var decodeTokens = 64

    @Option(name: .long, help: "Runs (the median is reported).")
    var runs = 3

    @Flag(name: .long, help: "One JSON line instead of text.")
    var json = false

    @Flag(name: .long, help: "Also profile one decode run: device time per kernel and token (OpenCL only).")
    var profile = false

    func run() async throws {
        let model = try modelOptions.load()
        let text = "The history of computing is a story of abstraction: each generation of engineers builds tools that hide the details of the last, from vacuum tubes to transistors, from assembly to compilers, from single machines to warehouse-scale clusters. "
        var prompt: [Int] = []
        while prompt.count < promptTokens { prompt += model.tokenizer.encode(text) }
        prompt = Array(prompt.prefix(promptTokens))
        let parameters = GenerationParameters(maxTokens: decodeTokens, temperature: 0, ignoreEndOfSequence: true)
        var prefill: [Double] = [], decode: [Double] = []
        for run in 0...runs {  // run 0 warms up kernel caches and is not counted
            let stats = try await model.generate(tokens: prompt, parameters: parameters).collect().stats
            guard run > 0 else { continue }
            prefill.append(stats.promptTokensPerSecond)
            decode.append(stats.decodeTokensPerSecond)
            progress("run \(run): prefill \(format(stats.promptTokensPerSecond)) tok/s, decode \(format(stats.decodeTokensPerSecond)) tok/s")
        }
        if profile, let queue = model.commandQueue {
            queue.recorder.start()
            let stats = try await model.generate(tokens: prompt, parameters: parameters).collect().stats
            printProfile(queue.recorder.stop(), tokens: stats.decodeTokens + 1, wall: stats.decodeSeconds + stats.promptSeconds)
        }
        let weightBytes = Double(try GGUFFile(path: modelOptions.model).tensors.reduce(0) { $0 + $1.byteCount })
        let bandwidth = try? deviceBandwidth(model: model)
        let prefillMedian = median(prefill), decodeMedian = median(decode)
        let decodeBandwidth = decodeMedian * weightBytes
        if json {
            print(jsonLine(["device": .string(model.deviceName), "prompt_tokens": .number(Double(promptTokens)), "decode_tokens": .number(Double(decodeTokens)),
                            "prefill_tok_s": .number(prefillMedian), "decode_tok_s": .number(decodeMedian),
                            "decode_weight_gb_s": .number(decodeBandwidth / 1e9), "device_read_gb_s": .number(bandwidth.map { $0 / 1e9 })]))
        } else {
            print("\(model.deviceName): prefill \(format(prefillMedian)) tok/s (\(promptTokens) tokens), decode \(format(decodeMedian)) tok/s (\(decodeTokens) tokens), medians of \(runs)")
            let share = bandwidth.map { " = \(format(decodeBandwidth / $0, 2))× the device's read bandwidth (\(format($0 / 1e9)) GB/s)" } ?? ""
            print("decode streams \(format(weightBytes / 1e6)) MB of weights a token: \(format(decodeBandwidth / 1e9, 2)) GB/s\(share)")
        }
    }

    /// The device's read bandwidth (bytes/s), measured now with the probe kernel; nil on the CPU backend.
    private func deviceBandwidth(model: LanguageModel) throws -> Double? {
        guard model.deviceName.hasPrefix("opencl"), let backend = try OpenCLBackend.make() else { return nil }
        return try BandwidthProbe(backend: backend).readBytesPerSecond(bytes: 64 << 20, repetitions: 5)
    }
}

/// Device time per kernel name over a recorded generation, per generated token, longest first.
private func printProfile(_ launches: [LaunchRecorder.Launch], tokens: Int, wall: Double) {
    var byKernel: [String: (count: Int, seconds: Double)] = [:]
    for launch in launches {
        let seconds = (try? launch.event.deviceSeconds()) ?? 0
        byKernel[launch.kernel, default: (0, 0)].count += 1
        byKernel[launch.kernel, default: (0, 0)].seconds += seconds
    }
    let total = byKernel.values.reduce(0) { $0 + $1.seconds }
    print("profile: \(launches.count) launches, device time \(format(total * 1e3)) ms of \(format(wall * 1e3)) ms wall, over \(tokens) forward passes")
    for (name, entry) in byKernel.sorted(by: { $0.value.seconds > $1.value.seconds }) {
        print("  \(pad(name, 28)) \(pad(String(entry.count), 7, right: true)) launches  \(pad(format(entry.seconds * 1e3 / Double(tokens), 3), 8, right: true)) ms/pass  \(pad(format(100 * entry.seconds / max(total, 1e-12)), 5, right: true)) %")
    }
}
