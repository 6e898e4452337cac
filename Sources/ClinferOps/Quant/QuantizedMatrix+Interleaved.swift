/// The interleaved device layout of `Kernels/quant_interleaved.cl`: rows in tiles of `tile`,
/// word w of every row of a tile stored together, so the work-items of a work-group (one row
/// each) read consecutive words at every step.
extension QuantizedMatrix {
    /// The quants as 32-bit words [tiles][words per row][tile] and d, m as [tiles][groups][tile]
    /// (value = q·d + m), the rows padded with zeros to a multiple of `tile`.
    func interleavedLayout(tile: Int) -> (words: [UInt32], d: [Float], m: [Float]) {
        let layout = deviceLayout()
        let rowBytes = columns * format.bits / 8, wordsPerRow = rowBytes / 4, groups = columns / format.groupSize
        let tiles = (rows + tile - 1) / tile
        var words = [UInt32](repeating: 0, count: tiles * wordsPerRow * tile)
        var d = [Float](repeating: 0, count: tiles * groups * tile), m = d
        layout.quants.withUnsafeBytes { quants in
            for row in 0..<rows {
                let (t, lane) = row.quotientAndRemainder(dividingBy: tile)
                for w in 0..<wordsPerRow {
                    words[(t * wordsPerRow + w) * tile + lane] =
                        quants.loadUnaligned(fromByteOffset: row * rowBytes + 4 * w, as: UInt32.self).littleEndian
                }
                for g in 0..<groups {
                    d[(t * groups + g) * tile + lane] = layout.d[row * groups + g]
                    m[(t * groups + g) * tile + lane] = format == .q8_0 ? 0 : layout.m[row * groups + g]
                }
            }
        }
        return (words, d, m)
    }
}
