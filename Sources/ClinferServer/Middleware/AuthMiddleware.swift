import Hummingbird

/// With an API key configured, every request except the probes (`/health`, `/metrics`) must send
/// `Authorization: Bearer <key>`; otherwise 401 with OpenAI's `invalid_api_key` error.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String
    let openPaths: Set<String>

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard !openPaths.contains(request.uri.path) else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix.lowercased(),
            Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.count)), Array(apiKey.utf8))
        else {
            throw APIError.invalidAPIKey
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so response time does not reveal how much of a guess matched.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
