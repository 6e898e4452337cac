import Hummingbird

/// `GET /metrics`: Prometheus text exposition format.
struct MetricsRoute: Sendable {
    let state: ServerState

    func handle(_ request: Request) -> Response {
        let text = state.metrics.render(refresh: state.refreshGauges)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
