import ClinferOps
import Foundation
import OpenCLKit
import Testing

@Suite("GEMM tuning: search, files, fallback")
struct TuningTests {
    static func temporaryStore() -> GEMMTuningStore {
        GEMMTuningStore(
            directory: FileManager.default.temporaryDirectory.appending(path: "clinfer-tuning-\(UUID().uuidString)"))
    }

    @Test("a saved table is read back and used by later GEMMs")
    func roundTrip() throws {
        let backend = try TestDevice.opencl()
        let store = Self.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        #expect(try store.load(for: backend.device) == nil, "no file yet")

        var table = GEMMTuningTable.builtInDefaults(for: backend.device)
        let tuned = GEMMTileConfig(tm: 2, tn: 3, vw: 4, wgm: 4, wgn: 2)
        table.entries[.nnLarge] = .init(config: .tiled(tuned), gflops: 12.5, shape: "64x64x64")
        try store.save(table, for: backend.device)
        #expect(try store.load(for: backend.device) == table)

        let gemm = OpenCLGEMM(backend: backend, store: store)
        #expect(gemm.plan(for: GEMMProblem(m: 100, n: 100, k: 100)) == .tiled(tuned))
        let error = try gemmError(GEMMProblem(m: 100, n: 77, k: 50), config: nil, backend: backend, tuning: gemm.tuning)
        #expect(error <= 1e-5)
    }

    @Test(
        "a corrupt, foreign or invalid tuning file is a clear error, and GEMM falls back to defaults",
        arguments: [
            "{ not json", #"{"format": 99, "device": "x", "entries": {}, "directMaxWork": 1}"#, "", "FOREIGN",
            "INVALID",
        ])
    func corruptFile(contents: String) throws {
        let backend = try TestDevice.opencl()
        let store = Self.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        var text = contents
        if contents == "FOREIGN" || contents == "INVALID" {
            var table = GEMMTuningTable.builtInDefaults(for: backend.device)
            if contents == "FOREIGN" { table.device = "Some Other GPU|1.0|x|y" }
            if contents == "INVALID" {
                table.entries[.ntLarge] = .init(config: .tiled(GEMMTileConfig(tm: 4, tn: 4, vw: 3, wgm: 1, wgn: 1)))
            }
            let encoder = JSONEncoder()
            text = String(decoding: try encoder.encode(table), as: UTF8.self)
        }
        try FileManager.default.createDirectory(at: store.directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: store.url(for: backend.device))

        let error = #expect(throws: OpError.self) { try store.load(for: backend.device) }
        guard case .corruptTuningFile(let path, _) = error else {
            Issue.record("expected corruptTuningFile, got \(String(describing: error))")
            return
        }
        #expect(path == store.url(for: backend.device).path)

        var warnings: [String] = []
        let gemm = OpenCLGEMM(backend: backend, store: store, onWarning: { warnings.append($0) })
        #expect(gemm.tuning == GEMMTuningTable.builtInDefaults(for: backend.device))
        #expect(warnings.count == 1 && warnings[0].contains("using built-in GEMM defaults"))
    }

    @Test("the tuner verifies candidates, keeps the fastest, and its table is used after saving")
    func tunerEndToEnd() throws {
        let backend = try TestDevice.opencl()
        let store = Self.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let gemm = OpenCLGEMM(backend: backend, tuning: GEMMTuningTable.builtInDefaults(for: backend.device))
        let tuner = GEMMTuner(timer: GEMMTimer(gemm: gemm, repetitions: 2), randomSamples: 1)
        var steps: [GEMMTuner.Step] = []
        let problems = [
            GEMMProblem(m: 3, n: 40, k: 24, transposeB: true), GEMMProblem(m: 1, n: 7, k: 33, transposeB: true),
        ]
        let table = try tuner.tune([.ntSkinny], problems: [.ntSkinny: problems]) { steps.append($0) }

        #expect(steps.count >= 2, "grid and samples were tried")
        #expect(steps.allSatisfy { $0.total == steps.count && $0.shapeClass == .ntSkinny })
        let measured = steps.filter { $0.gflops != nil }
        #expect(!measured.isEmpty)
        for step in measured {
            let measurements = try step.outcome.get()
            #expect(measurements.map(\.problem.m) == [3, 1])
            #expect(measurements.allSatisfy { ($0.relativeError ?? 1) <= 1e-4 }, "every kept candidate was verified")
        }
        let entry = try #require(table.entries[.ntSkinny])
        let best = try #require(measured.max { $0.gflops! < $1.gflops! })
        #expect(entry.config == best.config)
        #expect(entry.gflops == best.gflops)
        #expect(entry.shape == "3x40x24,1x7x33")

        try store.save(table, for: backend.device)
        #expect(
            OpenCLGEMM(backend: backend, store: store).plan(for: GEMMProblem(m: 1, n: 4096, k: 4096, transposeB: true))
                == entry.config)
    }

    @Test(
        "attention tiles: the tuner keeps the fastest verified candidate per head dimension, saved tiles are used, old files still load"
    )
    func attentionTuning() throws {
        let backend = try TestDevice.opencl()
        let store = Self.temporaryStore()
        defer { try? FileManager.default.removeItem(at: store.directory) }
        let base = GEMMTuningTable.builtInDefaults(for: backend.device)
        #expect(base.attention == nil && base.attentionTiles(headDim: 64) == .builtIn(headDim: 64))
        let candidates = [
            AttentionTiles(queriesPerItem: 1, keysPerTile: 8), AttentionTiles(queriesPerItem: 2, keysPerTile: 16),
        ]
        var steps: [AttentionTuner.Step] = []
        let table = try AttentionTuner(backend: backend, candidates: candidates, seq: 48, repetitions: 2)
            .tune(headDims: [64, 80], base: base) { steps.append($0) }
        #expect(steps.count == 4 && steps.allSatisfy { (try? $0.outcome.get()) != nil })
        for dim in [64, 80] {
            let fastest = try #require(
                steps.filter { $0.headDim == dim }.min { try! $0.outcome.get() < $1.outcome.get() })
            #expect(table.attentionTiles(headDim: dim) == fastest.tiles)
        }
        #expect(
            table.attentionTiles(headDim: 128) == .builtIn(headDim: 128),
            "untuned head dimensions keep the built-in tiles")

        try store.save(base, for: backend.device)  // a file without attention tiles (written before they existed)
        #expect(try store.load(for: backend.device)?.attention == nil)
        try store.save(table, for: backend.device)
        let attention = try OpenCLAttention(backend: backend, store: store)
        #expect(attention.tiles(headDim: 80) == table.attentionTiles(headDim: 80))
        #expect(
            try OpenCLAttention(backend: backend, queriesPerItem: 3, store: store).tiles(headDim: 80).queriesPerItem
                == 3, "explicit tiles win")

        var broken = table
        broken.setAttentionTiles(AttentionTiles(queriesPerItem: 0, keysPerTile: 8), headDim: 64)
        try store.save(broken, for: backend.device)
        #expect(throws: OpError.self) { try store.load(for: backend.device) }
    }

    @Test("the tuner rejects a problem of another shape class")
    func tunerRejectsMismatchedProblem() throws {
        let backend = try TestDevice.opencl()
        let tuner = GEMMTuner(
            timer: GEMMTimer(gemm: OpenCLGEMM(backend: backend, tuning: .builtInDefaults(for: backend.device))))
        #expect(throws: OpError.self) {
            try tuner.tune([.nnLarge], problems: [.nnLarge: [GEMMProblem(m: 1, n: 8, k: 8)]])
        }
    }

    @Test("search spaces hold only configurations the device can run")
    func searchSpaceIsValid() throws {
        let device = try TestDevice.opencl().device
        for shapeClass in GEMMShapeClass.allCases {
            let candidates = GEMMSearchSpace(shapeClass: shapeClass, randomSamples: 20).candidates(for: device)
            #expect(candidates.count >= 5)
            #expect(Set(candidates).count == candidates.count)
            for config in candidates {
                #expect(throws: Never.self) { try config.validate(for: device, shapeClass: shapeClass) }
            }
        }
    }
}
