import ArgumentParser
import ClinferEngine
import ClinferOps
import Foundation
import OpenCLKit

/// `clinfer bench generate`: prompt (prefill) and decode speed of a model, the median of several
/// runs, with decode's weight traffic against the device's read bandwidth measured in the same
/// run. Benchmarks/generate-vs-llamacpp.sh puts llama.cpp's numbers beside it.
struct BenchGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Prefill and decode tok/s of a GGUF model.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Prompt tokens.")
    var promptTokens = 256

    @Option(name: .long, help: "Generated tokens per run.")
    var decodeTokens = 64

    @Option(name: .long, help: "Runs (the median is reported).")
    var runs = 3

    @Flag(name: .long, help: "One JSON line instead of text.")
    var json = false

    @Flag(
        name: .long,
        help:
            "Also profile one decode run (OpenCL only): per decode pass, launches, device time per kernel and the wall time it does not cover."
    )
    var profile = false

    @Option(
        name: .long, parsing: .upToNextOption,
        help:
            "Concurrent sequences to measure continuous batching with, e.g. --streams 1 4 16: aggregate decode tok/s per count and its ratio to one stream."
    )
    var streams: [Int] = []

    func run() async throws {
        if !streams.isEmpty { return try await runStreams() }
        let model = try modelOptions.load(promptCache: false)
        let text =
            "The history of computing is a story of abstraction: each generation of engineers builds tools that hide the details of the last, from vacuum tubes to transistors, from assembly to compilers, from single machines to warehouse-scale clusters. "
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
            progress(
                "run \(run): prefill \(format(stats.promptTokensPerSecond)) tok/s, decode \(format(stats.decodeTokensPerSecond)) tok/s"
            )
        }
        if profile, let queue = model.commandQueue {
            // The prompt alone (its pass and the first token), then the whole run: the difference
            // is the decode passes.
            queue.recorder.start()
            let first = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 1)).collect().stats
            let prefillLaunches = queue.recorder.stop()
            queue.recorder.start()
            let stats = try await model.generate(tokens: prompt, parameters: parameters).collect().stats
            printDecodeProfile(
                DeviceTimes(queue.recorder.stop()) - DeviceTimes(prefillLaunches),
                passes: stats.decodeTokens - first.decodeTokens, wall: stats.decodeSeconds - first.decodeSeconds)
        }
        let weightBytes = Double(try GGUFFile(path: modelOptions.model).tensors.reduce(0) { $0 + $1.byteCount })
        let bandwidth = try? deviceBandwidth(model: model)
        let prefillMedian = median(prefill), decodeMedian = median(decode)
        let decodeBandwidth = decodeMedian * weightBytes
        if json {
            print(
                jsonLine([
                    "device": .string(model.deviceName), "prompt_tokens": .number(Double(promptTokens)),
                    "decode_tokens": .number(Double(decodeTokens)),
                    "prefill_tok_s": .number(prefillMedian), "decode_tok_s": .number(decodeMedian),
                    "decode_weight_gb_s": .number(decodeBandwidth / 1e9),
                    "device_read_gb_s": .number(bandwidth.map { $0 / 1e9 }),
                ]))
        } else {
            print(
                "\(model.deviceName): prefill \(format(prefillMedian)) tok/s (\(promptTokens) tokens), decode \(format(decodeMedian)) tok/s (\(decodeTokens) tokens), medians of \(runs)"
            )
            let share =
                bandwidth.map {
                    " = \(format(decodeBandwidth / $0, 2))× the device's read bandwidth (\(format($0 / 1e9)) GB/s)"
                } ?? ""
            print(
                "decode streams \(format(weightBytes / 1e6)) MB of weights a token: \(format(decodeBandwidth / 1e9, 2)) GB/s\(share)"
            )
        }
    }

    /// Aggregate decode speed with 1…N sequences generating at once (one batched forward pass
    /// per round): every sequence gets a short prompt and `decodeTokens` tokens; the wall time
    /// runs from the moment all prompts are prefilled to the last token.
    private func runStreams() async throws {
        guard streams.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--streams counts must be ≥ 1") }
        let model = try modelOptions.load(slots: streams.max()!, promptCache: false)
        let prompt = Array(
            model.tokenizer.encode("Write a long story about a lighthouse keeper and the sea.").prefix(promptTokens))
        let parameters = GenerationParameters(maxTokens: decodeTokens, temperature: 0, ignoreEndOfSequence: true)
        _ = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 2)).collect()  // warm-up
        var rows: [(streams: Int, tokensPerSecond: Double)] = []
        for count in streams {
            var rates: [Double] = []
            for run in 1...runs {
                let results = try await withThrowingTaskGroup(of: GenerationResult.self) { group in
                    for _ in 0..<count {
                        group.addTask { try await model.generate(tokens: prompt, parameters: parameters).collect() }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                // From the last prompt finished to the last token: every sequence decoding.
                let tokens = results.reduce(0) { $0 + $1.stats.decodeTokens }
                let seconds =
                    results.map { $0.stats.queueSeconds + $0.stats.promptSeconds + $0.stats.decodeSeconds }.max()!
                    - results.map { $0.stats.queueSeconds + $0.stats.promptSeconds }.max()!
                let rate = Double(tokens) / max(seconds, 1e-9)
                rates.append(rate)
                progress("\(count) streams, run \(run): \(format(rate)) tok/s aggregate")
            }
            rows.append((count, median(rates)))
        }
        if profile, let queue = model.commandQueue, let count = streams.max() {
            queue.recorder.start()
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<count {
                    group.addTask { _ = try await model.generate(tokens: prompt, parameters: parameters).collect() }
                }
                try await group.waitForAll()
            }
            print("\(count) streams (passes include the prompts'):")
            let wall = ContinuousClock.now - start
            printDecodeProfile(DeviceTimes(queue.recorder.stop()), passes: decodeTokens + count, wall: wall.seconds)
        }
        let single = rows.first { $0.streams == 1 }?.tokensPerSecond
        for row in rows {
            let ratio = single.map { " = \(format(row.tokensPerSecond / $0, 2))× one stream" } ?? ""
            if json {
                print(
                    jsonLine([
                        "device": .string(model.deviceName), "streams": .number(Double(row.streams)),
                        "decode_tokens": .number(Double(decodeTokens)),
                        "aggregate_decode_tok_s": .number(row.tokensPerSecond),
                        "ratio_to_one_stream": .number(single.map { row.tokensPerSecond / $0 }),
                    ]))
            } else {
                print(
                    "\(model.deviceName): \(pad(String(row.streams), 3, right: true)) streams: \(format(row.tokensPerSecond)) tok/s aggregate decode\(ratio) (median of \(runs))"
                )
            }
        }
    }

    /// The device's read bandwidth (bytes/s), measured now with the probe kernel; nil on the CPU backend.
    private func deviceBandwidth(model: LanguageModel) throws -> Double? {
        guard model.deviceName.hasPrefix("opencl"), let backend = try OpenCLBackend.make() else { return nil }
        return try BandwidthProbe(backend: backend).readBytesPerSecond(bytes: 64 << 20, repetitions: 5)
    }
}

/// Per decode pass: launches, device time per kernel (longest first), and the wall time the
/// device time does not cover (host work and waits between launches).
private func printDecodeProfile(_ times: DeviceTimes, passes: Int, wall: Double) {
    let perPass = 1 / Double(max(passes, 1))
    let launches = times.byKernel.values.reduce(0) { $0 + $1.count }
    let device = times.byKernel.values.reduce(0) { $0 + $1.seconds }
    print(
        "decode profile over \(passes) passes, per pass: \(format(Double(launches) * perPass, 1)) launches, "
            + "device time \(format(device * perPass * 1e3, 3)) ms, wall \(format(wall * perPass * 1e3, 3)) ms, "
            + "wall not covered by device time (host work, waits) \(format(max(0, wall - device) * perPass * 1e3, 3)) ms"
    )
    for (name, entry) in times.byKernel.sorted(by: { $0.value.seconds > $1.value.seconds }) {
        print(
            "  \(pad(name, 28)) \(pad(format(Double(entry.count) * perPass, 1), 6, right: true)) launches  \(pad(format(entry.seconds * perPass * 1e3, 3), 7, right: true)) ms  \(pad(format(100 * entry.seconds / max(device, 1e-12)), 5, right: true)) %"
        )
    }
}
