import Foundation

/// A value in a one-line JSON object printed by `--json` modes.
enum JSONField {
    case string(String)
    case number(Double?)
}

/// One JSON object on one line, keys sorted, numbers rounded to 4 decimals, nil as null.
func jsonLine(_ fields: [String: JSONField]) -> String {
    let body = fields.keys.sorted().map { key -> String in
        let value: String
        switch fields[key]! {
        case .string(let text): value = jsonString(text)
        case .number(let number): value = number.map { $0.isFinite ? String(format: "%.4f", $0) : "null" } ?? "null"
        }
        return "\(jsonString(key)): \(value)"
    }
    return "{" + body.joined(separator: ", ") + "}"
}

func jsonString(_ text: String) -> String {
    let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
    let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
    return String(array.dropFirst().dropLast())
}
