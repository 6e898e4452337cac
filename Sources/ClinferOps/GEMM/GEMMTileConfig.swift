import OpenCLKit

/// Parameters of the tiled GEMM kernels (`Kernels/gemm_tiled.cl`); see that file for their
/// meaning. Constraints are checked by ``validate(for:transposedB:)`` before compiling.
public struct GEMMTileConfig: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Rows of C per work-item; problems with fewer rows compile with the smallest power of two
    /// that covers M instead.
    public var tm: Int
    /// NN: vectors of `vw` columns per work-item; NT: columns per work-item.
    public var tn: Int
    /// Vector width (along N for NN, along K for NT).
    public var vw: Int
    /// Work-group size in M and N.
    public var wgm: Int
    public var wgn: Int
    /// Stage A and B slices through local memory.
    public var useLocal: Bool
    /// Depth of a staged slice (used only with `useLocal`).
    public var kwg: Int
    /// For B stored [K, N]: first pack B into [N, K] (`gemm_pack.cl`), then run the kernel for
    /// B stored [N, K] with these parameters (CLBlast's indirect path). Ignored for B [N, K].
    public var packB: Bool

    public init(
        tm: Int, tn: Int, vw: Int, wgm: Int, wgn: Int, useLocal: Bool = false, kwg: Int = 16, packB: Bool = false
    ) {
        self.tm = tm
        self.tn = tn
        self.vw = vw
        self.wgm = wgm
        self.wgn = wgn
        self.useLocal = useLocal
        self.kwg = kwg
        self.packB = packB
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            tm: try container.decode(Int.self, forKey: .tm), tn: try container.decode(Int.self, forKey: .tn),
            vw: try container.decode(Int.self, forKey: .vw), wgm: try container.decode(Int.self, forKey: .wgm),
            wgn: try container.decode(Int.self, forKey: .wgn),
            useLocal: try container.decodeIfPresent(Bool.self, forKey: .useLocal) ?? false,
            kwg: try container.decodeIfPresent(Int.self, forKey: .kwg) ?? 16,
            packB: try container.decodeIfPresent(Bool.self, forKey: .packB) ?? false)
    }

    public var description: String {
        "tiled tm\(tm) tn\(tn) vw\(vw) wg\(wgm)x\(wgn)" + (useLocal ? " local k\(kwg)" : "") + (packB ? " packB" : "")
    }

    /// Whether the kernel for B stored [N, K] runs (B is stored so, or is packed so first).
    func runsTransposedKernel(transposedB: Bool) -> Bool { transposedB || packB }

    /// Columns of C one work-item computes.
    func columnsPerItem(transposedB: Bool) -> Int { runsTransposedKernel(transposedB: transposedB) ? tn : tn * vw }

    /// Bytes of local memory a work-group uses.
    func localBytes(transposedB: Bool) -> Int {
        guard useLocal else { return 0 }
        return 4 * kwg * (wgm * tm + wgn * columnsPerItem(transposedB: transposedB))
    }

    /// Throws ``OpError/invalidConfiguration(kernel:detail:)`` when a constraint or a limit of
    /// `device` is violated.
    public func validate(for device: Device, transposedB: Bool) throws(OpError) {
        func fail(_ detail: String) -> OpError {
            .invalidConfiguration(kernel: "gemm_tiled", detail: "\(self): \(detail)")
        }
        let transposedB = runsTransposedKernel(transposedB: transposedB)
        guard [1, 2, 4, 8, 16].contains(vw) else { throw fail("vw must be 1, 2, 4, 8 or 16") }
        guard (1...16).contains(tm), (1...16).contains(tn) else { throw fail("tm and tn must be in 1...16") }
        guard tm * tn * vw <= 512 else { throw fail("tm·tn·vw = \(tm * tn * vw) accumulators exceed 512") }
        guard wgm >= 1, wgn >= 1, wgm * wgn <= device.maxWorkGroupSize else {
            throw fail("work-group \(wgm)x\(wgn) exceeds the device maximum \(device.maxWorkGroupSize)")
        }
        if device.maxWorkItemSizes.count >= 2, wgm > device.maxWorkItemSizes[0] || wgn > device.maxWorkItemSizes[1] {
            throw fail("work-group \(wgm)x\(wgn) exceeds the device's per-dimension limits \(device.maxWorkItemSizes)")
        }
        if useLocal {
            guard (1...256).contains(kwg) else { throw fail("kwg must be in 1...256") }
            if transposedB, kwg % vw != 0 { throw fail("kwg must be a multiple of vw for B stored [N, K]") }
            let bytes = localBytes(transposedB: transposedB)
            guard bytes <= device.localMemoryBytes else {
                throw fail("needs \(bytes) bytes of local memory, the device has \(device.localMemoryBytes)")
            }
        }
    }

    /// The `-D` build options for these parameters.
    func buildOptions(transposeA: Bool) -> String {
        "-DTM=\(tm) -DTN=\(tn) -DVW=\(vw) -DWGM=\(wgm) -DWGN=\(wgn) -DUSE_LOCAL=\(useLocal ? 1 : 0) -DKWG=\(kwg) -DTRANS_A=\(transposeA ? 1 : 0)"
    }
}

/// Parameters of the skinny GEMM kernel (`Kernels/gemm_skinny.cl`), used for B stored [N, K]
/// and M ≤ 16.
public struct GEMMSkinnyConfig: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The largest row block of A per pass; the kernel is compiled with the smallest power of
    /// two ≥ M up to this.
    public var maxRows: Int
    /// Outputs per work-item.
    public var nr: Int
    /// Vector width along K.
    public var vw: Int
    /// Work-items splitting K within a work-group (power of two; 1 = no reduction).
    public var lk: Int
    /// Output groups per work-group.
    public var wgn: Int

    public init(maxRows: Int = 8, nr: Int, vw: Int, lk: Int, wgn: Int) {
        self.maxRows = maxRows
        self.nr = nr
        self.vw = vw
        self.lk = lk
        self.wgn = wgn
    }

    public var description: String { "skinny nr\(nr) vw\(vw) lk\(lk) wgn\(wgn) rows≤\(maxRows)" }

    /// The row block compiled for a problem with `m` rows.
    func rows(for m: Int) -> Int { min(maxRows, nextPowerOfTwo(m)) }

    public func validate(for device: Device) throws(OpError) {
        func fail(_ detail: String) -> OpError {
            .invalidConfiguration(kernel: "gemm_skinny", detail: "\(self): \(detail)")
        }
        guard [1, 2, 4, 8, 16].contains(vw) else { throw fail("vw must be 1, 2, 4, 8 or 16") }
        guard [1, 2, 4, 8, 16].contains(maxRows) else { throw fail("maxRows must be 1, 2, 4, 8 or 16") }
        guard (1...16).contains(nr) else { throw fail("nr must be in 1...16") }
        guard maxRows * nr * vw <= 512 else {
            throw fail("maxRows·nr·vw = \(maxRows * nr * vw) accumulators exceed 512")
        }
        guard lk >= 1, lk & (lk - 1) == 0 else { throw fail("lk must be a power of two") }
        guard wgn >= 1, lk * wgn <= device.maxWorkGroupSize else {
            throw fail("work-group \(lk)x\(wgn) exceeds the device maximum \(device.maxWorkGroupSize)")
        }
        if device.maxWorkItemSizes.count >= 2, lk > device.maxWorkItemSizes[0] || wgn > device.maxWorkItemSizes[1] {
            throw fail("work-group \(lk)x\(wgn) exceeds the device's per-dimension limits \(device.maxWorkItemSizes)")
        }
        let bytes = lk > 1 ? 4 * wgn * lk * maxRows * nr : 0
        guard bytes <= device.localMemoryBytes else {
            throw fail("needs \(bytes) bytes of local memory, the device has \(device.localMemoryBytes)")
        }
    }

    func buildOptions(rows: Int) -> String {
        "-DMR=\(rows) -DNR=\(nr) -DVW=\(vw) -DLK=\(lk) -DWGN=\(wgn)"
    }
}

/// The kernel and parameters chosen for a GEMM problem.
public enum GEMMKernelConfig: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The bounds-checked one-element-per-work-item kernel (`gemm_direct.cl`).
    case direct
    case tiled(GEMMTileConfig)
    case skinny(GEMMSkinnyConfig)

    public var description: String {
        switch self {
        case .direct: "direct"
        case .tiled(let config): config.description
        case .skinny(let config): config.description
        }
    }

    /// Checks the parameters against `device` for problems of `shapeClass`.
    public func validate(for device: Device, shapeClass: GEMMShapeClass) throws(OpError) {
        switch self {
        case .direct: break
        case .tiled(let config): try config.validate(for: device, transposedB: shapeClass.transposedB)
        case .skinny(let config):
            guard shapeClass.transposedB else {
                throw .invalidConfiguration(
                    kernel: "gemm_skinny", detail: "serves only B stored [N, K], not \(shapeClass.rawValue)")
            }
            try config.validate(for: device)
        }
    }
}
