import ClinferEngine

/// `GET /v1/models`: the models this server serves.
struct ModelList: Encodable, Sendable {
    var object = "list"
    var data: [ModelCard]
}

/// One served model: OpenAI's fields, plus what a client needs to budget tokens (llama-server
/// and vLLM report the same): the context length, vocabulary, architecture and tensor formats.
struct ModelCard: Encodable, Sendable {
    var id: String
    var object = "model"
    var created: Int
    var ownedBy = "clinfer"
    /// Positions a request may use (prompt and completion together; for embeddings, the most
    /// tokens of one input).
    var contextLength: Int?
    var vocabularySize: Int?
    var architecture: String?
    /// "chat" (a chat template) or "completion" for language models; "embedding".
    var kind: String?
    /// Output width of an embedding model.
    var dimensions: Int?
    /// Tensors per GGUF type.
    var tensorTypes: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case id, object, created, architecture, kind, dimensions
        case ownedBy = "owned_by"
        case contextLength = "context_length"
        case vocabularySize = "vocab_size"
        case tensorTypes = "tensor_types"
    }

    init(id: String, created: Int) {
        self.id = id
        self.created = created
    }

    /// The card of `id` among `served`.
    init(id: String, served: ServedModels) {
        self.init(id: id, created: served.created)
        if id == served.languageID {
            let model = served.language
            contextLength = model.contextLength
            vocabularySize = model.tokenizer.vocabularySize
            architecture = model.configuration.architecture
            kind = model.chatTemplate.format == .plain ? "completion" : "chat"
            tensorTypes = model.tensorTypes
        } else if id == served.embeddingID, let model = served.embedding {
            contextLength = model.maxSequenceLength
            architecture = "bert"
            kind = "embedding"
            dimensions = model.dimension
        }
    }
}
