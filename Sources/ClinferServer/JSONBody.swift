import Foundation
import Hummingbird

/// JSON in and out: request bodies decoded with errors in OpenAI's shape, responses encoded as
/// `application/json`.
enum JSONBody {
    /// Decodes the request body (already collected within the body limit by
    /// ``BodyLimitMiddleware``). Malformed JSON and wrong types become 400 ``APIError``s.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: .max)
        guard buffer.readableBytes > 0 else { throw APIError.invalidJSON("the body is empty") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.decoding(error)
        }
    }

    /// The encoded value; encoding our own response types cannot fail, but if it ever did the
    /// client gets a valid JSON error rather than a crash.
    static func data(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            return Data(
                #"{"error":{"message":"response encoding failed","type":"server_error","param":null,"code":"internal_error"}}"#
                    .utf8)
        }
    }

    static func buffer(_ value: some Encodable) -> ByteBuffer {
        ByteBuffer(bytes: data(value))
    }

    /// A 200 (or `status`) response with `value` as its JSON body.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer(value)))
    }
}
