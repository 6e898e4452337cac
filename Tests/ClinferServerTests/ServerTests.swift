import Testing

/// Every server test, one at a time: they share one loaded model, and several watch slot counts.
@Suite("Server (OpenAI-compatible HTTP API)", .serialized, .enabled(if: ServerFixture.available))
struct ServerTests {}
