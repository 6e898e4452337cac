import Foundation
import OpenCLKit

/// The kernel configuration to use for each ``GEMMShapeClass`` on one device.
///
/// Built-in defaults exist per device type; `clinfer tune gemm` measures better ones and saves
/// them with ``GEMMTuningStore``, and every later GEMM on that device uses them.
public struct GEMMTuningTable: Sendable, Hashable, Codable {
    /// A tuned configuration and what it reached when it was measured.
    public struct Entry: Sendable, Hashable, Codable {
        public var config: GEMMKernelConfig
        /// GFLOPS measured by the tuner (nil for built-in defaults).
        public var gflops: Double?
        /// The problem it was measured on, e.g. "1024x1024x1024".
        public var shape: String?

        public init(config: GEMMKernelConfig, gflops: Double? = nil, shape: String? = nil) {
            self.config = config
            self.gflops = gflops
            self.shape = shape
        }
    }

    /// The file format version; files of another version are rejected.
    public static let formatVersion = 1

    public var format: Int
    /// ``OpenCLKit/Device/cacheIdentity`` of the device the table was tuned on.
    public var device: String
    public var entries: [GEMMShapeClass: Entry]
    /// Problems with at most this many multiply-adds (M·N·K) use the direct kernel.
    public var directMaxWork: Int
    /// Tuned fused-attention tiles per head dimension ("d64": …); absent from files written
    /// before attention was tunable.
    public var attention: [String: AttentionTiles]?

    public init(device: String, entries: [GEMMShapeClass: Entry], directMaxWork: Int = 32 * 32 * 32) {
        format = Self.formatVersion
        self.device = device
        self.entries = entries
        self.directMaxWork = directMaxWork
    }

    /// The configuration for `shapeClass` (the built-in default when the table has none).
    public func config(for shapeClass: GEMMShapeClass, device: Device) -> GEMMKernelConfig {
        entries[shapeClass]?.config ?? Self.builtInDefaults(for: device).entries[shapeClass]!.config
    }

    /// Defaults chosen from experiments: register tiles without local memory on CPUs (PoCL
    /// runs work-groups as loops, so values live across barriers spill), sized to fit 16 AVX2
    /// registers (6×16 and 4×3×8 accumulators; larger tiles spill), CLBlast-style local
    /// staging on GPUs; one work-item per output with wide vectors for skinny problems on CPUs,
    /// a work-group reduction along K on GPUs.
    public static func builtInDefaults(for device: Device) -> GEMMTuningTable {
        let maxGroup = device.maxWorkGroupSize
        func fit(_ wgm: Int, _ wgn: Int) -> (Int, Int) {
            var (a, b) = (wgm, wgn)
            while a * b > maxGroup { if a >= b { a /= 2 } else { b /= 2 } }
            return (max(a, 1), max(b, 1))
        }
        let entries: [GEMMShapeClass: Entry]
        if device.type == .cpu {
            entries = [
                .nnLarge: Entry(config: .tiled(GEMMTileConfig(tm: 6, tn: 1, vw: 16, wgm: 8, wgn: 1))),
                .nnSkinny: Entry(config: .tiled(GEMMTileConfig(tm: 8, tn: 2, vw: 16, wgm: 1, wgn: 8))),
                .ntLarge: Entry(config: .tiled(GEMMTileConfig(tm: 4, tn: 3, vw: 8, wgm: 8, wgn: 1))),
                .ntSkinny: Entry(config: .skinny(GEMMSkinnyConfig(maxRows: 4, nr: 4, vw: 16, lk: 1, wgn: 16))),
            ]
        } else {
            let (lm, ln) = fit(16, 16)
            let lk = min(64, max(1, maxGroup / 4))
            entries = [
                .nnLarge: Entry(
                    config: .tiled(GEMMTileConfig(tm: 4, tn: 1, vw: 4, wgm: lm, wgn: ln, useLocal: true, kwg: 16))),
                .nnSkinny: Entry(config: .tiled(GEMMTileConfig(tm: 4, tn: 1, vw: 4, wgm: 1, wgn: min(64, maxGroup)))),
                .ntLarge: Entry(
                    config: .tiled(GEMMTileConfig(tm: 4, tn: 4, vw: 4, wgm: lm, wgn: ln, useLocal: true, kwg: 16))),
                .ntSkinny: Entry(
                    config: .skinny(
                        GEMMSkinnyConfig(maxRows: 4, nr: 1, vw: 4, lk: lk, wgn: max(1, min(4, maxGroup / lk))))),
            ]
        }
        return GEMMTuningTable(device: device.cacheIdentity, entries: entries)
    }
}

/// Reads and writes per-device tuning files: JSON under `<cache>/tuning/`, one file per device
/// name and driver version.
public struct GEMMTuningStore: Sendable {
    public let directory: URL

    public init(directory: URL = CacheDirectory.root.appending(path: "tuning", directoryHint: .isDirectory)) {
        self.directory = directory
    }

    /// The tuning file of `device`.
    public func url(for device: Device) -> URL {
        directory.appending(path: "gemm-" + CacheDirectory.fileName(for: device.cacheIdentity) + ".json")
    }

    /// The saved table for `device`; nil when there is no file. A file that cannot be decoded,
    /// was tuned for another device, or holds configurations this device cannot run throws
    /// ``OpError/corruptTuningFile(path:detail:)``.
    public func load(for device: Device) throws(OpError) -> GEMMTuningTable? {
        let url = url(for: device)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let table: GEMMTuningTable
        do {
            table = try JSONDecoder().decode(GEMMTuningTable.self, from: Data(contentsOf: url))
        } catch {
            throw .corruptTuningFile(path: url.path, detail: "\(error)")
        }
        guard table.format == GEMMTuningTable.formatVersion else {
            throw .corruptTuningFile(
                path: url.path, detail: "format \(table.format), expected \(GEMMTuningTable.formatVersion)")
        }
        guard table.device == device.cacheIdentity else {
            throw .corruptTuningFile(
                path: url.path, detail: "tuned for '\(table.device)', not '\(device.cacheIdentity)'")
        }
        for (shapeClass, entry) in table.entries {
            do throws(OpError) {
                try entry.config.validate(for: device, shapeClass: shapeClass)
            } catch {
                throw .corruptTuningFile(path: url.path, detail: "\(shapeClass.rawValue): \(error)")
            }
        }
        for (headDim, tiles) in table.attention ?? [:] {
            do throws(OpError) {
                try tiles.validate()
            } catch {
                throw .corruptTuningFile(path: url.path, detail: "attention \(headDim): \(error)")
            }
        }
        return table
    }

    /// The saved table when usable, else the built-in defaults, with a warning saying why a
    /// present file was ignored.
    public func resolve(for device: Device) -> (table: GEMMTuningTable, warning: String?) {
        do {
            if let table = try load(for: device) { return (table, nil) }
            return (GEMMTuningTable.builtInDefaults(for: device), nil)
        } catch {
            return (GEMMTuningTable.builtInDefaults(for: device), "\(error); using built-in GEMM defaults")
        }
    }

    /// Writes `table` atomically as the tuning file of `device`.
    public func save(_ table: GEMMTuningTable, for device: Device) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(table).write(to: url(for: device), options: .atomic)
    }
}
