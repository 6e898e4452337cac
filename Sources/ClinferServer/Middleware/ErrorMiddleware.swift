import Hummingbird
import Logging

/// Inside the access log, around everything else: whatever a route or a middleware throws becomes an
/// OpenAI-shaped JSON error with its status (``APIError/from(_:path:)``); 5xx errors are logged.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError.from(error, path: request.uri.path)
            if apiError.status.code >= 500 && apiError.status != .serviceUnavailable
                && apiError.status != .gatewayTimeout
            {
                context.logger.error(
                    "request failed",
                    metadata: ["path": .string(request.uri.path), "error": .string(String(describing: error))])
            }
            return apiError.response()
        }
    }
}
