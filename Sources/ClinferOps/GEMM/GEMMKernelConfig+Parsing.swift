extension GEMMKernelConfig {
    /// Parses the form ``description`` prints, so a configuration seen in a benchmark can be
    /// given back on the command line: `direct`, `tiled tm8 tn2 vw16 wg8x1`,
    /// `tiled tm4 tn4 vw4 wg16x16 local k16`, `tiled tm2 tn4 vw8 wg8x1 packB`, `skinny nr4 vw16 lk1 wgn16 rows≤4` (`rows<=4` too).
    public init?(parsing text: String) {
        let words = text.lowercased().replacingOccurrences(of: "≤", with: "<=").split(separator: " ").map(String.init)
        guard let kind = words.first else { return nil }
        var values: [String: Int] = [:]
        var local = false, packB = false
        for word in words.dropFirst() {
            if word == "local" { local = true; continue }
            if word == "packb" { packB = true; continue }
            if word.hasPrefix("wg"), !word.hasPrefix("wgn"), let x = word.dropFirst(2).firstIndex(of: "x") {
                guard let m = Int(word[word.index(word.startIndex, offsetBy: 2)..<x]),
                    let n = Int(word[word.index(after: x)...])
                else { return nil }
                values["wgm"] = m
                values["wgn"] = n
                continue
            }
            guard let split = word.firstIndex(where: { $0.isNumber }),
                let value = Int(word[split...].drop { $0 == "=" })
            else { return nil }
            values[String(word[..<split]).replacingOccurrences(of: "<=", with: "")] = value
        }
        switch kind {
        case "direct":
            self = .direct
        case "tiled":
            guard let tm = values["tm"], let tn = values["tn"], let vw = values["vw"], let wgm = values["wgm"],
                let wgn = values["wgn"]
            else { return nil }
            self = .tiled(
                GEMMTileConfig(
                    tm: tm, tn: tn, vw: vw, wgm: wgm, wgn: wgn, useLocal: local, kwg: values["k"] ?? 16, packB: packB))
        case "skinny":
            guard let nr = values["nr"], let vw = values["vw"], let lk = values["lk"], let wgn = values["wgn"] else {
                return nil
            }
            self = .skinny(GEMMSkinnyConfig(maxRows: values["rows"] ?? 8, nr: nr, vw: vw, lk: lk, wgn: wgn))
        default:
            return nil
        }
    }
}
