import ArgumentParser
import ClinferEngine
import Foundation

/// `clinfer info MODEL`: what a model file holds (format, metadata, tensors), read from its
/// header without loading the weights. Works on GGUF files, safetensors files and model
/// directories; a file that cannot be used prints the `ModelFormatError` and exits with 1.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a model file's format, metadata and tensors (GGUF or safetensors).",
        discussion: """
            MODEL is a .gguf file, a .safetensors file, or a directory holding model.safetensors \
            (or a single .gguf file). The format is recognised by the file's first bytes. Arrays \
            are summarised (type, count, first values) and long strings shortened; --json prints \
            one object with every tensor.
            """)

    @Argument(help: "A .gguf or .safetensors file, or a model directory.")
    var model: String

    @Flag(help: "List every tensor (default: the first \(InfoCommand.defaultListed)).")
    var tensors = false

    @Flag(help: "Print one JSON object (keys sorted) instead of text.")
    var json = false

    static let defaultListed = 20

    func run() throws {
        do throws(ModelFormatError) {
            let path = try Self.resolve(model)
            if Self.isGGUF(path) {
                let file = try GGUFFile(path: path)
                print(json ? Self.json(Self.summary(of: file)) : describe(file))
            } else {
                let file = try SafetensorsFile(path: path)
                print(json ? Self.json(Self.summary(of: file)) : describe(file))
            }
        } catch {
            progress("error: \(error.description)")
            throw ExitCode(1)
        }
    }

    // MARK: Locating the file

    /// The model file for `path`: the file itself, or in a directory its model.safetensors or
    /// its only .gguf file.
    static func resolve(_ path: String) throws(ModelFormatError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, detail: "no such file or directory")
        }
        guard isDirectory.boolValue else { return path }
        let directory = URL(fileURLWithPath: path)
        let safetensors = directory.appendingPathComponent("model.safetensors").path
        if FileManager.default.fileExists(atPath: safetensors) { return safetensors }
        let ggufs = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter {
            $0.hasSuffix(".gguf")
        }.sorted()
        guard ggufs.count == 1 else {
            throw .missing(
                path: path,
                detail: ggufs.isEmpty
                    ? "the directory has no model.safetensors and no .gguf file"
                    : "the directory has several .gguf files (\(ggufs.joined(separator: ", "))); name one")
        }
        return directory.appendingPathComponent(ggufs[0]).path
    }

    /// Whether the file starts with the GGUF magic (or, if unreadable, is named .gguf so the
    /// GGUF reader reports why).
    static func isGGUF(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return path.hasSuffix(".gguf") }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        return magic.elementsEqual("GGUF".utf8)
    }

    // MARK: Text

    private func describe(_ file: GGUFFile) -> String {
        var lines = [
            "\(file.path): GGUF v\(file.version), \(Self.size(file.fileSize)), alignment \(file.alignment), data at offset \(file.dataOffset)"
        ]
        lines.append("metadata (\(Self.count(file.metadataKeys.count, "key"))):")
        let keyWidth = min(48, file.metadataKeys.map(\.count).max() ?? 0)
        for key in file.metadataKeys {
            guard let value = file.metadata[key] else { continue }
            lines.append("  \(pad(key, keyWidth))  \(Self.text(value))")
        }
        let rows = file.tensors.map {
            (name: $0.name, type: $0.type.name, dims: "\($0.dimensions)", bytes: $0.byteCount)
        }
        lines += tensorLines(rows, dimsTitle: "dims (ne0 first)")
        lines.append(Self.modelLine(file))
        return lines.joined(separator: "\n")
    }

    /// Whether Clinfer runs the file, and the memory it will take: the weights in their device
    /// form (quantized formats transcoded, plain ones widened to fp32) and the KV cache.
    static func modelLine(_ file: GGUFFile) -> String {
        let c: DecoderConfiguration
        do throws(ModelFormatError) {
            c = try DecoderConfiguration(gguf: file)
        } catch {
            return "model: not runnable: \(error.description)"
        }
        let windowed = c.layerAttention.filter { $0.window != nil }
        let windows =
            windowed.isEmpty ? "" : ", sliding window \(windowed[0].window!) on \(windowed.count) of \(c.layers) layers"
        let cache = kvBytesPer1024Positions(c)
        return
            "model: \(c.architecture), \(c.layers) layers, embedding \(c.embedding), heads \(c.heads)/\(c.kvHeads) × \(c.headDim)"
            + "\(windows); weights on a device \(size(deviceWeightBytes(file))), KV cache \(size(cache)) per 1024 positions a sequence"
    }

    /// Bytes of one sequence's fp32 KV cache over 1024 positions.
    static func kvBytesPer1024Positions(_ c: DecoderConfiguration) -> Int {
        2 * c.layers * c.kvHeads * c.headDim * 1024 * MemoryLayout<Float>.size
    }

    /// Bytes of the weights once uploaded (quantized formats in their device form, others fp32).
    static func deviceWeightBytes(_ file: GGUFFile) -> Int {
        file.tensors.reduce(0) { total, tensor in
            guard let format = tensor.type.quantFormat, let columns = tensor.dimensions.first, columns > 0 else {
                return total + tensor.elementCount * 4
            }
            return total + format.deviceBytes(rows: tensor.elementCount / columns, columns: columns)
        }
    }

    private func describe(_ file: SafetensorsFile) -> String {
        var lines = ["\(file.path): safetensors, \(Self.size(file.fileSize)), JSON header \(file.headerLength) bytes"]
        if !file.metadata.isEmpty {
            lines.append("metadata (\(Self.count(file.metadata.count, "key"))):")
            for key in file.metadata.keys.sorted() {
                lines.append("  \(key) = \(Self.quoted(file.metadata[key] ?? ""))")
            }
        }
        let rows = file.orderedTensors.map {
            (name: $0.name, type: $0.dtype.rawValue, dims: "\($0.shape)", bytes: $0.byteCount)
        }
        lines += tensorLines(rows, dimsTitle: "shape")
        return lines.joined(separator: "\n")
    }

    /// The per-type counts and the table of the first tensors (all with `--tensors`).
    private func tensorLines(
        _ rows: [(name: String, type: String, dims: String, bytes: Int)], dimsTitle: String
    ) -> [String] {
        var lines = ["tensors: \(rows.count), \(Self.size(rows.reduce(0) { $0 + $1.bytes }))"]
        var byType: [String: (count: Int, bytes: Int)] = [:]
        for row in rows {
            byType[row.type, default: (0, 0)].count += 1; byType[row.type, default: (0, 0)].bytes += row.bytes
        }
        for (type, entry) in byType.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            lines.append(
                "  \(pad(type, 8)) \(pad(String(entry.count), 6, right: true)) \(entry.count == 1 ? "tensor " : "tensors")  \(pad(Self.size(entry.bytes), 10, right: true))"
            )
        }
        let listed = tensors ? rows : Array(rows.prefix(Self.defaultListed))
        guard !listed.isEmpty else { return lines }
        lines.append(
            listed.count == rows.count
                ? "all tensors:" : "first \(listed.count) tensors (--tensors lists all \(rows.count)):")
        let nameWidth = max(4, min(60, listed.map(\.name.count).max() ?? 0)),
            dimsWidth = max(dimsTitle.count, listed.map(\.dims.count).max() ?? 0)
        lines.append(
            "  \(pad("name", nameWidth))  \(pad("type", 8))  \(pad(dimsTitle, dimsWidth))  \(pad("bytes", 12, right: true))"
        )
        for row in listed {
            lines.append(
                "  \(pad(row.name, nameWidth))  \(pad(row.type, 8))  \(pad(row.dims, dimsWidth))  \(pad(String(row.bytes), 12, right: true))"
            )
        }
        return lines
    }

    /// A metadata value on one line: type, then value; arrays as type, count and first values.
    static func text(_ value: GGUFValue) -> String {
        switch value {
        case .string(let text): "string   \(quoted(text))"
        case .array(let array): arrayText(array)
        default: "\(pad(value.type.description, 8)) \(scalarText(value))"
        }
    }

    private static func arrayText(_ array: GGUFArray, depth: Int = 0) -> String {
        let head = (0..<min(array.count, depth == 0 ? 5 : 2)).compactMap { array.element(at: $0) }.map {
            element -> String in
            switch element {
            case .string(let text): quoted(text, limit: 24)
            case .array(let inner): arrayText(inner, depth: depth + 1)
            default: scalarText(element)
            }
        }
        let more = array.count > head.count ? (head.isEmpty ? "…" : ", …") : ""
        return "[\(array.elementType) × \(array.count)]"
            + (array.count == 0 ? "" : " \(head.joined(separator: ", "))\(more)")
    }

    private static func scalarText(_ value: GGUFValue) -> String {
        switch value {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .float64(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let v): quoted(v)
        case .array(let v): arrayText(v)
        }
    }

    /// `text` in quotes with newlines and tabs escaped, shortened past `limit` characters.
    static func quoted(_ text: String, limit: Int = 80) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\t", with: "\\t")
            .replacingOccurrences(of: "\"", with: "\\\"")
        guard escaped.count > limit else { return "\"\(escaped)\"" }
        return "\"\(escaped.prefix(limit))…\" (\(text.count) characters)"
    }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    static func size(_ bytes: Int) -> String {
        if bytes < 1 << 10 { return "\(bytes) bytes" }
        if bytes < 1 << 20 { return "\(format(Double(bytes) / Double(1 << 10))) KiB" }
        if bytes < 1 << 30 { return "\(format(Double(bytes) / Double(1 << 20))) MiB" }
        return "\(format(Double(bytes) / Double(1 << 30), 2)) GiB"
    }

    // MARK: JSON

    static func summary(of file: GGUFFile) -> [String: Any] {
        var metadata: [String: Any] = [:]
        for (key, value) in file.metadata { metadata[key] = jsonValue(value) }
        let tensors: [[String: Any]] = file.tensors.map {
            [
                "name": $0.name, "type": $0.type.name, "dims": $0.dimensions, "offset": $0.offset,
                "bytes": $0.byteCount, "supported": $0.type.isSupported,
            ]
        }
        var summary: [String: Any] = [
            "format": "gguf", "path": file.path, "version": file.version, "file_bytes": file.fileSize,
            "alignment": file.alignment,
            "data_offset": file.dataOffset, "metadata": metadata, "tensor_count": file.tensors.count,
            "tensor_bytes": file.tensors.reduce(0) { $0 + $1.byteCount },
            "types": typeCounts(file.tensors.map { ($0.type.name, $0.byteCount) }), "tensors": tensors,
            "device_weight_bytes": deviceWeightBytes(file),
        ]
        if let configuration = try? DecoderConfiguration(gguf: file) {
            summary["architecture_supported"] = true
            summary["architecture"] = configuration.architecture
            summary["kv_bytes_per_1024_positions"] = kvBytesPer1024Positions(configuration)
        } else {
            summary["architecture_supported"] = false
        }
        return summary
    }

    static func summary(of file: SafetensorsFile) -> [String: Any] {
        let ordered = file.orderedTensors
        let tensors: [[String: Any]] = ordered.map {
            [
                "name": $0.name, "dtype": $0.dtype.rawValue, "shape": $0.shape,
                "data_offsets": [$0.dataOffsets.lowerBound, $0.dataOffsets.upperBound],
                "bytes": $0.byteCount, "supported": $0.dtype.isSupported,
            ]
        }
        return [
            "format": "safetensors", "path": file.path, "file_bytes": file.fileSize, "header_bytes": file.headerLength,
            "metadata": file.metadata, "tensor_count": ordered.count,
            "tensor_bytes": ordered.reduce(0) { $0 + $1.byteCount },
            "types": typeCounts(ordered.map { ($0.dtype.rawValue, $0.byteCount) }), "tensors": tensors,
        ]
    }

    private static func typeCounts(_ entries: [(String, Int)]) -> [String: [String: Int]] {
        var counts: [String: [String: Int]] = [:]
        for (type, bytes) in entries {
            counts[type, default: ["count": 0, "bytes": 0]]["count", default: 0] += 1
            counts[type, default: ["count": 0, "bytes": 0]]["bytes", default: 0] += bytes
        }
        return counts
    }

    /// A metadata value for JSON: scalars as themselves (non-finite floats as strings), arrays
    /// as type, count and their first 8 elements.
    private static func jsonValue(_ value: GGUFValue) -> Any {
        switch value {
        case .float32(let v): return v.isFinite ? Double(v) : "\(v)"
        case .float64(let v): return v.isFinite ? v : "\(v)"
        case .string(let v): return v
        case .bool(let v): return v
        case .uint64(let v): return v
        case .array(let array):
            let head = (0..<min(array.count, 8)).compactMap { array.element(at: $0) }.map(jsonValue)
            return ["type": "array", "element_type": array.elementType.description, "count": array.count, "head": head]
        default: return value.intValue ?? 0
        }
    }

    static func json(_ object: [String: Any]) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
