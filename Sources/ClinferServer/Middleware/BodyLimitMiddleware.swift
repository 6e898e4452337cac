import Hummingbird

/// Reads the request body up to `limit` bytes before any route runs; a larger body (declared in
/// `Content-Length` or sent chunked) is 413 `request_too_large`. The collected body keeps its link
/// to the connection, so routes can still notice a client that disconnects.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        }
        return try await next(request, context)
    }
}
