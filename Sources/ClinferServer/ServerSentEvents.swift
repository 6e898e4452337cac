import Hummingbird

/// Server-sent events as OpenAI streams them: `data: <json>` and a blank line per event, and
/// `data: [DONE]` at the end.
enum ServerSentEvents {
    static let headers: HTTPFields = [
        .contentType: "text/event-stream",
        .cacheControl: "no-cache",
    ]

    static func event(_ value: some Encodable) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(JSONBody.data(value))
        buffer.writeString("\n\n")
        return buffer
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")
}
