import ClinferEngine
import Foundation
import Hummingbird

/// An error answered with OpenAI's JSON shape,
/// `{"error": {"message": …, "type": …, "param": …, "code": …}}`, and an HTTP status.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    /// Extra response headers (`Retry-After`, `Allow`, `WWW-Authenticate`).
    public var headers: HTTPFields

    public init(
        status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers
    }

    public var description: String { "\(status.code) \(type)\(code.map { "/\($0)" } ?? ""): \(message)" }

    // MARK: The errors the server answers

    static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    static func invalidJSON(_ detail: String) -> APIError {
        invalidRequest("We could not parse the JSON body of your request: \(detail)", code: "invalid_json")
    }

    static func unknownModel(_ name: String, served: [String]) -> APIError {
        APIError(
            status: .notFound,
            message:
                "The model '\(name)' does not exist; this server serves \(served.map { "'\($0)'" }.joined(separator: ", ")).",
            type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    /// `atLeast`: `prompt` is a lower bound (the prompt was refused before it was tokenized).
    static func contextLengthExceeded(limit: Int, prompt: Int, completion: Int?, atLeast: Bool = false) -> APIError {
        // `completion` is the client's number: saturate rather than overflow.
        let (sum, overflow) = prompt.addingReportingOverflow(completion ?? 0)
        let requested = overflow ? "more than \(Int.max)" : "\(sum)"
        let detail =
            completion.map { "\(requested) tokens (\(prompt) in the prompt, \($0) for the completion)" }
            ?? "\(atLeast ? "at least " : "")\(prompt) tokens in the prompt"
        return invalidRequest(
            "This model's maximum context length is \(limit) tokens. However, you requested \(detail). Please reduce the length of the prompt or the completion.",
            param: "messages", code: "context_length_exceeded")
    }

    static func queueFull(retryAfterSeconds: Int) -> APIError {
        APIError(
            status: .tooManyRequests,
            message: "The server is at capacity (every generation slot and the wait queue are taken); retry later.",
            type: "rate_limit_error", code: "queue_full", headers: [.retryAfter: String(retryAfterSeconds)])
    }

    static var invalidAPIKey: APIError {
        APIError(
            status: .unauthorized, message: "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'.",
            type: "invalid_request_error", code: "invalid_api_key", headers: [.wwwAuthenticate: "Bearer"])
    }

    static func bodyTooLarge(limit: Int?) -> APIError {
        APIError(
            status: .contentTooLarge,
            message: "The request body is larger than the server's limit\(limit.map { " of \($0) bytes" } ?? "").",
            type: "invalid_request_error", code: "request_too_large")
    }

    static func methodNotAllowed(_ method: HTTPRequest.Method, path: String, allowed: [HTTPRequest.Method]) -> APIError
    {
        APIError(
            status: .methodNotAllowed,
            message: "\(method) is not allowed on \(path); use \(allowed.map(\.rawValue).joined(separator: " or ")).",
            type: "invalid_request_error", code: "method_not_allowed",
            headers: [.allow: allowed.map(\.rawValue).joined(separator: ", ")])
    }

    static func notFound(path: String) -> APIError {
        APIError(
            status: .notFound, message: "No endpoint at \(path).", type: "invalid_request_error", code: "not_found")
    }

    static var loading: APIError {
        APIError(
            status: .serviceUnavailable,
            message: "The model is still loading; retry shortly (GET /health turns 200 when ready).",
            type: "server_error", code: "model_loading", headers: [.retryAfter: "1"])
    }

    static var timeout: APIError {
        APIError(
            status: .gatewayTimeout, message: "The request took longer than the server's request timeout.",
            type: "timeout_error", code: "request_timeout")
    }

    /// A failure inside the server. The client learns nothing about it (paths, device errors and
    /// the like stay in the server's log, where ``ErrorMiddleware`` writes them).
    static var internalError: APIError {
        APIError(
            status: .internalServerError,
            message: "The server failed to handle the request; the details are in its log.",
            type: "server_error", code: "internal_error")
    }

    // MARK: Mapping other errors

    /// The API error for any error a handler throws: API errors as they are, request decoding
    /// errors as 400, Hummingbird's HTTP errors (413 from the body limit, 404) in OpenAI's shape,
    /// generation errors as 400, anything else as 500.
    static func from(_ error: any Error, path: String) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case is ClientDisconnected, is CancellationError:
            return APIError(
                status: HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"),
                message: "The client closed the connection before the response was complete.", type: "client_closed",
                code: "client_closed")
        case let error as DecodingError:
            return Self.decoding(error)
        case let error as GenerationError:
            switch error {
            case .queueFull:
                return queueFull(retryAfterSeconds: 1)
            case .contextLengthExceeded(let requested, let limit):
                return contextLengthExceeded(limit: limit, prompt: requested, completion: nil)
            case .emptyPrompt:
                return invalidRequest("The prompt is empty.", param: "prompt", code: "empty_prompt")
            case .invalidToken(let id, let size):
                return invalidRequest(
                    "Token id \(id) is outside the vocabulary (0..<\(size)).", param: "prompt", code: "invalid_token")
            case .invalidParameter(let detail):
                return invalidRequest("Invalid parameter: \(detail)", code: "invalid_parameter")
            case .noChatTemplate:
                return invalidRequest(
                    "This model has no chat template (a base model): use /v1/completions.", param: "messages",
                    code: "no_chat_template")
            }
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge: return bodyTooLarge(limit: nil)
            case .notFound: return notFound(path: path)
            default:
                return APIError(
                    status: error.status, message: error.body ?? error.status.reasonPhrase,
                    type: "invalid_request_error")
            }
        default:
            return internalError
        }
    }

    /// "Invalid type for 'temperature': expected a number." and the like, naming the field.
    static func decoding(_ error: DecodingError) -> APIError {
        func name(_ path: [any CodingKey]) -> String? {
            guard !path.isEmpty else { return nil }
            return path.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
                .reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
        }
        switch error {
        case .typeMismatch(let type, let context):
            let param = name(context.codingPath)
            return invalidRequest(
                "Invalid type for '\(param ?? "body")': expected \(expectation(type, context)).", param: param,
                code: "invalid_type")
        case .valueNotFound(let type, let context):
            let param = name(context.codingPath)
            return invalidRequest(
                "Invalid value for '\(param ?? "body")': expected \(expectation(type, context)), got null.",
                param: param, code: "invalid_type")
        case .keyNotFound(let key, let context):
            let param = name(context.codingPath + [key])
            return invalidRequest(
                "Missing required parameter: '\(param ?? key.stringValue)'.", param: param,
                code: "missing_required_parameter")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return invalidJSON(
                    context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription)
            }
            let param = name(context.codingPath)
            return invalidRequest(
                "Invalid value for '\(param ?? "body")': \(context.debugDescription)", param: param,
                code: "invalid_value")
        @unknown default:
            return invalidJSON(String(describing: error))
        }
    }

    private static func expectation(_ type: Any.Type, _ context: DecodingError.Context) -> String {
        if context.debugDescription.hasPrefix("expected ") {
            return String(context.debugDescription.dropFirst("expected ".count))
        }
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is [Any].Type: return "an array"
        default: return context.debugDescription.isEmpty ? "\(type)" : "an object"
        }
    }
}

/// The JSON object an error is sent as.
struct ErrorEnvelope: Encodable, Sendable {
    var error: Body

    struct Body: Encodable, Sendable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        enum CodingKeys: String, CodingKey { case message, type, param, code }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }
    }

    init(_ error: APIError) {
        self.error = Body(message: error.message, type: error.type, param: error.param, code: error.code)
    }
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    /// The JSON response for this error.
    func response() -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: JSONBody.buffer(ErrorEnvelope(self))))
    }
}
