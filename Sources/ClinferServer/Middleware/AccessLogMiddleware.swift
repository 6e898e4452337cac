import ClinferOps
import Hummingbird
import Logging

/// One structured log line per request at `info`: method, path, status, duration (to the
/// response head; a stream's tokens follow it).
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.seconds * 1e3
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
                "ms": .string(String(Int(milliseconds.rounded()))),
            ])
        return response
    }
}
