import ClinferEngine
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ClinferServer

extension ServerTests {
    @Suite("Structured output (response_format)")
    struct StructuredOutput {
        static var schema: [String: Any] {
            [
                "type": "object",
                "properties": [
                    "city": ["type": "string", "maxLength": 20], "population": ["type": "integer"],
                    "capital": ["type": "boolean"],
                    "rivers": ["type": "array", "items": ["enum": ["Seine", "Loire"]], "maxItems": 2],
                ],
                "required": ["city", "population", "capital"], "additionalProperties": false,
            ]
        }

        @Test(
            "json_schema: the reply parses and has the schema's shape, streamed the same; json_object gives an object")
        func schemaReply() async throws {
            try await ServerFixture.server().test { client in
                var request: [String: Any] = [
                    "messages": [["role": "user", "content": "Describe Paris as JSON."]], "max_tokens": 160,
                    "temperature": 0,
                    "response_format": [
                        "type": "json_schema", "json_schema": ["name": "city", "schema": Self.schema],
                    ],
                ]
                let response = try await client.post("/v1/chat/completions", json: request)
                #expect(response.status == .ok, "\(response.text)")
                let choice = try #require((try response.json["choices"] as? [[String: Any]])?.first)
                let text = try #require((choice["message"] as? [String: Any])?["content"] as? String)
                // The schema bounds every string and array, so the value ends well within max_tokens.
                #expect(choice["finish_reason"] as? String == "stop", "\(text)")
                let value = try #require(
                    try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not an object: \(text)")
                #expect(value["city"] is String && value["population"] is Int && value["capital"] is Bool)
                #expect(Set(value.keys).isSubset(of: ["city", "population", "capital", "rivers"]))
                #expect((value["city"] as? String).map { $0.count <= 20 } == true)

                request["stream"] = true
                let stream = try await client.post("/v1/chat/completions", json: request)
                let streamed = try stream.events.dropLast().map(object).compactMap {
                    (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
                }.joined()
                #expect(streamed == text)

                let object = try await client.post(
                    "/v1/completions",
                    json: [
                        "prompt": "A JSON object describing a dog:", "max_tokens": 64, "temperature": 0,
                        "response_format": ["type": "json_object"],
                    ])
                let objectChoice = try #require((try object.json["choices"] as? [[String: Any]])?.first)
                let objectText = try #require(objectChoice["text"] as? String)
                #expect(objectText.hasPrefix("{"))
                if objectChoice["finish_reason"] as? String == "stop" {
                    #expect(try JSONSerialization.jsonObject(with: Data(objectText.utf8)) is [String: Any])
                }
            }
        }

        @Test("bad response formats: 400 naming response_format (unsupported keyword, bad schema, unknown type)")
        func badFormats() async throws {
            try await ServerFixture.server().test { client in
                let cases: [([String: Any], String)] = [
                    (
                        ["type": "json_schema", "json_schema": ["schema": ["type": "string", "pattern": "a+"]]],
                        "unsupported_schema"
                    ),
                    (
                        ["type": "json_schema", "json_schema": ["schema": ["anyOf": [["type": "string"]]]]],
                        "unsupported_schema"
                    ),
                    (
                        ["type": "json_schema", "json_schema": ["schema": ["type": "object", "required": ["x"]]]],
                        "invalid_schema"
                    ),
                    (["type": "json_schema", "json_schema": ["name": "x"]], "invalid_value"),
                    (["type": "yaml"], "invalid_value"),
                ]
                for (format, code) in cases {
                    let response = try await client.post(
                        "/v1/chat/completions",
                        json: ["messages": [["role": "user", "content": "hi"]], "response_format": format])
                    #expect(response.status == .badRequest, "\(format)")
                    #expect(try response.errorCode == code, "\(format)")
                    #expect((try response.json["error"] as? [String: Any])?["param"] as? String == "response_format")
                }
                let pattern = try await client.post(
                    "/v1/chat/completions",
                    json: [
                        "messages": [["role": "user", "content": "hi"]],
                        "response_format": ["type": "json_schema", "json_schema": ["schema": ["pattern": "a"]]],
                    ])
                #expect(
                    ((try pattern.json["error"] as? [String: Any])?["message"] as? String)?.contains("'pattern'")
                        == true)
                let text = try await client.post(
                    "/v1/chat/completions",
                    json: [
                        "messages": [["role": "user", "content": "hi"]], "max_tokens": 2,
                        "response_format": ["type": "text"],
                    ])
                #expect(text.status == .ok)
            }
        }
    }
}
