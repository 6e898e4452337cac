/// `GET /v1/models`: the models this server serves.
struct ModelList: Encodable, Sendable {
    var object = "list"
    var data: [ModelCard]
}

/// One served model.
struct ModelCard: Encodable, Sendable {
    var id: String
    var object = "model"
    var created: Int
    var ownedBy = "clinfer"

    enum CodingKeys: String, CodingKey {
        case id, object, created
        case ownedBy = "owned_by"
    }
}
