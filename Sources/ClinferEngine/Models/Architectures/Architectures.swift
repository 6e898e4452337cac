/// The decoder families Clinfer runs, keyed by GGUF `general.architecture`. A family is one file
/// (an ``Architecture`` completing ``DecoderConfiguration``) plus a line here; an architecture
/// not listed is an error naming it, never a fallback to another family's code.
public enum Architectures {
    static let registered: [String: Architecture] = Dictionary(
        uniqueKeysWithValues: [Architecture.llama, .qwen2, .gemma3].map { ($0.name, $0) })

    /// The registered `general.architecture` names.
    public static var names: [String] { registered.keys.sorted() }
}

/// One decoder family: its GGUF name and what it sets beyond the common hyper-parameters.
struct Architecture: Sendable {
    let name: String
    /// Completes a configuration whose common keys are read; throws for metadata the family
    /// needs and does not find.
    let configure: @Sendable (inout DecoderConfiguration, GGUFFile) throws(ModelFormatError) -> Void
}
