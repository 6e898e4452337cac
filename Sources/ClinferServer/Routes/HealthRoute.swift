import Hummingbird

/// `GET /health`: 503 while the models load (or failed to), 200 once requests are served; the
/// readiness probe of a load balancer.
struct HealthRoute: Sendable {
    let state: ServerState

    struct Status: Encodable, Sendable {
        var status: String
        var model: String?
        var device: String?
        var slots: Int
        var running: Int
        var waiting: Int
        var error: String?
    }

    func handle(_ request: Request) -> Response {
        let counts = state.sequenceCounts
        var status = Status(
            status: "loading", slots: state.configuration.slots, running: counts.running, waiting: counts.waiting)
        switch state.models.current {
        case .loading:
            return JSONBody.response(status, status: .serviceUnavailable)
        case .failed:
            // The reason (a path, a device error) is in the server's log; this probe is unauthenticated.
            status.status = "failed"
            status.error = "the models failed to load; see the server log"
            return JSONBody.response(status, status: .serviceUnavailable)
        case .ready(let served):
            status.status = "ok"
            status.model = served.languageID
            status.device = served.language.deviceName
            return JSONBody.response(status)
        }
    }
}
