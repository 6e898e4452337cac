import Hummingbird
import NIOCore

/// Reads the request body up to `limit` bytes before any route runs; a larger body (declared in
/// `Content-Length` or sent chunked) is 413 `request_too_large`, and a body that cannot be read
/// whole (the client stopped mid-body, a malformed chunk) is 400 `incomplete_body`, never a 500.
/// The collected body keeps its link to the connection, so routes can still notice a client that
/// disconnects.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw APIError.invalidRequest(
                "The request body could not be read whole (\(error)).", code: "incomplete_body")
        }
        return try await next(request, context)
    }
}
