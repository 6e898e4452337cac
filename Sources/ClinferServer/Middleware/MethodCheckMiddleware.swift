import Hummingbird

/// A known path asked for with a method it does not serve is 405 with an `Allow` header (the
/// router alone would answer 404).
struct MethodCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods each endpoint serves.
    let allowed: [String: [HTTPRequest.Method]]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        if let methods = allowed[path], !methods.contains(request.method),
            !(request.method == .head && methods.contains(.get))
        {
            throw APIError.methodNotAllowed(request.method, path: path, allowed: methods)
        }
        return try await next(request, context)
    }
}
