import OpenCLKit

/// The kernel configurations the tuner tries for one shape class: a small grid searched
/// exhaustively, then random samples from a larger space (as CLBlast's tuner does).
/// Configurations the device cannot run are dropped before anything is compiled.
public struct GEMMSearchSpace: Sendable {
    public var shapeClass: GEMMShapeClass
    /// How many random configurations to add to the grid.
    public var randomSamples: Int
    public var seed: UInt64

    public init(shapeClass: GEMMShapeClass, randomSamples: Int = 12, seed: UInt64 = 0x5EED) {
        self.shapeClass = shapeClass
        self.randomSamples = randomSamples
        self.seed = seed
    }

    /// The candidates valid on `device`, grid first, without duplicates.
    public func candidates(for device: Device) -> [GEMMKernelConfig] {
        var seen = Set<GEMMKernelConfig>()
        var result: [GEMMKernelConfig] = []
        func add(_ config: GEMMKernelConfig) {
            guard !seen.contains(config), (try? config.validate(for: device, shapeClass: shapeClass)) != nil else {
                return
            }
            seen.insert(config)
            result.append(config)
        }
        add(GEMMTuningTable.builtInDefaults(for: device).config(for: shapeClass, device: device))
        grid.forEach(add)
        var generator = SplitMix64(seed: seed ^ StableHash.fnv1a64(shapeClass.rawValue))
        var attempts = 0
        let target = result.count + randomSamples
        while result.count < target && attempts < randomSamples * 50 {
            attempts += 1
            add(randomConfig(using: &generator))
        }
        return result
    }

    var grid: [GEMMKernelConfig] {
        switch shapeClass {
        case .nnLarge, .ntLarge:
            // Register tiles of 8–16 vector accumulators (fit AVX2's 16 registers up to AVX-512's 32),
            // then CLBlast-style local staging for GPUs.
            let transposedB = shapeClass.transposedB
            let tiles =
                transposedB
                ? [(4, 3, 8), (2, 4, 8), (4, 4, 8), (4, 2, 8), (3, 2, 16), (4, 2, 16), (4, 4, 16), (2, 2, 16)]
                : [(6, 1, 16), (8, 1, 16), (4, 2, 16), (6, 2, 8), (8, 2, 8), (4, 3, 8), (8, 2, 16), (4, 1, 16)]
            var configs: [GEMMKernelConfig] = tiles.map {
                .tiled(GEMMTileConfig(tm: $0.0, tn: $0.1, vw: $0.2, wgm: 8, wgn: 1))
            }
            if !transposedB {
                // Pack B into [N, K] first, then run the [N, K] kernel's best tiles.
                configs += [(4, 3, 8), (2, 4, 8), (4, 2, 8)].map {
                    .tiled(GEMMTileConfig(tm: $0.0, tn: $0.1, vw: $0.2, wgm: 8, wgn: 1, packB: true))
                }
            }
            configs.append(
                .tiled(GEMMTileConfig(tm: 4, tn: transposedB ? 4 : 1, vw: 4, wgm: 16, wgn: 16, useLocal: true, kwg: 16))
            )
            configs.append(
                .tiled(GEMMTileConfig(tm: 4, tn: transposedB ? 4 : 2, vw: 4, wgm: 8, wgn: 8, useLocal: true, kwg: 16)))
            return configs
        case .nnSkinny:
            // The row tile shrinks to cover M, so tm 8 serves M = 1 and M = 8 alike.
            return [(8, 1, 16), (8, 2, 16), (8, 2, 8), (4, 2, 16), (8, 4, 8), (8, 8, 4)].map {
                .tiled(GEMMTileConfig(tm: $0.0, tn: $0.1, vw: $0.2, wgm: 1, wgn: 8))
            }
        case .ntSkinny:
            var configs: [GEMMKernelConfig] = []
            for nr in [1, 2, 4, 8] {
                for vw in [8, 16] {
                    configs.append(.skinny(GEMMSkinnyConfig(maxRows: 4, nr: nr, vw: vw, lk: 1, wgn: 16)))
                }
            }
            for lk in [16, 64] { configs.append(.skinny(GEMMSkinnyConfig(maxRows: 4, nr: 1, vw: 4, lk: lk, wgn: 4))) }
            return configs
        }
    }

    func randomConfig(using generator: inout SplitMix64) -> GEMMKernelConfig {
        let powers = [1, 2, 4, 8, 16]
        switch shapeClass {
        case .ntSkinny:
            return .skinny(
                GEMMSkinnyConfig(
                    maxRows: [1, 2, 4, 8].randomElement(using: &generator)!,
                    nr: [1, 2, 4, 8].randomElement(using: &generator)!,
                    vw: powers.randomElement(using: &generator)!,
                    lk: [1, 1, 4, 16, 32, 64, 128].randomElement(using: &generator)!,
                    wgn: powers.randomElement(using: &generator)!))
        case .nnSkinny, .nnLarge, .ntLarge:
            let skinny = shapeClass == .nnSkinny
            return .tiled(
                GEMMTileConfig(
                    tm: [1, 2, 4, 8].randomElement(using: &generator)!,
                    tn: [1, 2, 4, 8].randomElement(using: &generator)!, vw: powers.randomElement(using: &generator)!,
                    wgm: skinny ? 1 : powers.randomElement(using: &generator)!,
                    wgn: powers.randomElement(using: &generator)!,
                    useLocal: Bool.random(using: &generator), kwg: [8, 16, 32].randomElement(using: &generator)!,
                    packB: !shapeClass.transposedB && Bool.random(using: &generator)))
        }
    }
}
