/// The fused attention kernel's tile sizes (`-DBQ`, `-DBK` of `Kernels/attention_flash.cl`):
/// queries per work-item and keys per tile. Built-in defaults depend on the head dimension;
/// `clinfer tune attention` measures better ones and saves them in the device's tuning file
/// (``GEMMTuningTable/attention``), which every later ``OpenCLAttention`` uses.
public struct AttentionTiles: Sendable, Hashable, Codable, CustomStringConvertible {
    public var queriesPerItem: Int
    public var keysPerTile: Int

    public init(queriesPerItem: Int, keysPerTile: Int) {
        self.queriesPerItem = queriesPerItem
        self.keysPerTile = keysPerTile
    }

    public var description: String { "BQ \(queriesPerItem) BK \(keysPerTile)" }

    /// Limits of the kernel (its per-work-item arrays are BQ·D and BQ·BK floats).
    public func validate() throws(OpError) {
        guard (1...16).contains(queriesPerItem), (1...128).contains(keysPerTile) else {
            throw .invalidConfiguration(
                kernel: "attention_flash", detail: "BQ \(queriesPerItem) (1…16), BK \(keysPerTile) (1…128)")
        }
    }

    /// One query per work-item (its row and output stay in registers) and tiles that shrink as
    /// heads widen (a tile's scores sit beside 2·D floats of private memory). Measured on PoCL
    /// at d 64, seq 2048: BQ 1 BK 64 157 ms, BQ 1 BK 32 168 ms, BQ 2 201–210 ms, BQ 4 242–249 ms.
    public static func builtIn(headDim: Int) -> AttentionTiles {
        AttentionTiles(queriesPerItem: 1, keysPerTile: headDim <= 64 ? 64 : headDim <= 128 ? 32 : 16)
    }

    /// The key under which a head dimension's tiles are saved.
    static func key(headDim: Int) -> String { "d\(headDim)" }
}

extension GEMMTuningTable {
    /// The attention tiles for `headDim`: tuned ones when the table has them, else built-in.
    public func attentionTiles(headDim: Int) -> AttentionTiles {
        attention?[AttentionTiles.key(headDim: headDim)] ?? .builtIn(headDim: headDim)
    }

    /// Records tuned attention tiles for `headDim`.
    public mutating func setAttentionTiles(_ tiles: AttentionTiles, headDim: Int) {
        attention = (attention ?? [:]).merging([AttentionTiles.key(headDim: headDim): tiles]) { $1 }
    }
}
