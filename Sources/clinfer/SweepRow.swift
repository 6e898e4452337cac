import ClinferOps

/// One cell of a GEMM sweep: a configuration on a problem, measured or rejected.
struct SweepRow {
    var problem: GEMMProblem
    var config: GEMMKernelConfig
    var measurement: GEMMMeasurement?
    var failure: String?

    var column: String { "\(problem.shapeText) \(layoutName(problem.transposeB))" }

    static func csv(_ rows: [SweepRow]) -> String {
        var text = "shape,layout,config,gflops,seconds,relative_error,status\n"
        for row in rows {
            let gflops: String = row.measurement.map { format($0.gflops, 3) } ?? ""
            let seconds: String = row.measurement.map { String($0.seconds) } ?? ""
            let error: String = row.measurement?.relativeError.map { String($0) } ?? ""
            let status: String = row.failure.map { "\"rejected: \(csvSafe($0))\"" } ?? "ok"
            let fields: [String] = [
                row.problem.shapeText, layoutName(row.problem.transposeB), "\"\(row.config)\"", gflops, seconds, error,
                status,
            ]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    private static func csvSafe(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\n", with: " ")
    }
}

/// An SVG heatmap of GFLOPS: one row per kernel configuration, one column per shape and layout.
struct Heatmap {
    var rows: [SweepRow]
    var title: String

    func svg() -> String {
        let columns = unique(rows.map(\.column))
        let configs = unique(rows.map { "\($0.config)" })
        let best = rows.compactMap { $0.measurement?.gflops }.max() ?? 1
        let cellWidth = 96, cellHeight = 22, left = 290, top = 70
        let width = left + columns.count * cellWidth + 20, height = top + configs.count * cellHeight + 40
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="20" font-size="15" font-weight="bold">\(escape(title))</text>
            <text x="10" y="38" fill="#555">GFLOPS per kernel configuration (rows) and shape MxNxK + B layout (columns); colour relative to the best, \(format(best)) GFLOPS; × = rejected</text>

            """
        for (index, column) in columns.enumerated() {
            let x = left + index * cellWidth + cellWidth / 2
            svg += "<text x=\"\(x)\" y=\"\(top - 8)\" text-anchor=\"middle\">\(escape(column))</text>\n"
        }
        for (rowIndex, config) in configs.enumerated() {
            let y = top + rowIndex * cellHeight
            svg += "<text x=\"\(left - 6)\" y=\"\(y + 15)\" text-anchor=\"end\">\(escape(config))</text>\n"
            for (columnIndex, column) in columns.enumerated() {
                let x = left + columnIndex * cellWidth
                guard let cell = rows.first(where: { $0.column == column && "\($0.config)" == config }) else {
                    svg +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cellWidth - 2)\" height=\"\(cellHeight - 2)\" fill=\"#eee\"/>\n"
                    continue
                }
                if let gflops = cell.measurement?.gflops {
                    let fraction = gflops / best
                    svg +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cellWidth - 2)\" height=\"\(cellHeight - 2)\" fill=\"\(color(fraction))\"/>\n"
                    svg +=
                        "<text x=\"\(x + cellWidth / 2)\" y=\"\(y + 15)\" text-anchor=\"middle\" fill=\"\(fraction > 0.55 ? "black" : "white")\">\(format(gflops))</text>\n"
                } else {
                    svg +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cellWidth - 2)\" height=\"\(cellHeight - 2)\" fill=\"#ccc\"/>\n"
                    svg += "<text x=\"\(x + cellWidth / 2)\" y=\"\(y + 15)\" text-anchor=\"middle\">×</text>\n"
                }
            }
        }
        return svg + "</svg>\n"
    }

    /// Dark blue (slow) through green to yellow (fastest).
    private func color(_ fraction: Double) -> String {
        let t = max(0, min(1, fraction))
        let stops: [(Double, Double, Double)] = [(38, 36, 110), (33, 145, 140), (250, 230, 35)]
        let scaled = t * 2, index = min(1, Int(scaled)), local = scaled - Double(index)
        let (a, b) = (stops[index], stops[index + 1])
        func mix(_ x: Double, _ y: Double) -> Int { Int(x + (y - x) * local) }
        return "rgb(\(mix(a.0, b.0)),\(mix(a.1, b.1)),\(mix(a.2, b.2)))"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    private func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
