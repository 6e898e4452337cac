import Hummingbird

/// `GET /v1/models` and `GET /v1/models/{id}`.
struct ModelsRoute: Sendable {
    let state: ServerState

    func list(_ request: Request) throws -> Response {
        let served = try state.models.models()
        return JSONBody.response(ModelList(data: served.ids.map { ModelCard(id: $0, served: served) }))
    }

    func model(_ id: String) throws -> Response {
        let served = try state.models.models()
        guard served.ids.contains(id) else { throw APIError.unknownModel(id, served: served.ids) }
        return JSONBody.response(ModelCard(id: id, served: served))
    }
}
