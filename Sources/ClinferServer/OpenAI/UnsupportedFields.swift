/// OpenAI request fields Clinfer does not implement. A request that turns one on gets a 400
/// naming it (`unsupported_parameter`) rather than an answer that silently ignores it; the
/// fields' "off" values (`null`, `{}`, `[]`, `"none"`) are accepted,
/// since clients often send them by default.
struct UnsupportedFields: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case logitBias = "logit_bias"
        case tools, toolChoice = "tool_choice", functions, functionCall = "function_call", parallelToolCalls =
            "parallel_tool_calls"
        case audio, modalities, prediction
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        func isOff(_ key: Key) -> Bool {
            switch key {
            case .logitBias: (try? container.decode([String: Double].self, forKey: key))?.isEmpty == true
            case .tools, .functions: (try? container.decode([Bool].self, forKey: key))?.isEmpty == true
            case .toolChoice, .functionCall: (try? container.decode(String.self, forKey: key)) == "none"
            case .parallelToolCalls: (try? container.decode(Bool.self, forKey: key)) != nil
            case .modalities: (try? container.decode([String].self, forKey: key)) == ["text"]
            case .audio, .prediction: false
            }
        }
        for key in Key.allCases where container.contains(key) {
            if try container.decodeNil(forKey: key) || isOff(key) { continue }
            throw APIError.invalidRequest(
                "'\(key.stringValue)' is not supported by this server.", param: key.stringValue,
                code: "unsupported_parameter")
        }
    }
}
