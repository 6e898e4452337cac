extension Architecture {
    /// Llama (and SmolLM2, a Llama-architecture model): RMSNorm, RoPE on adjacent pairs (the GGUF
    /// converter permutes Q/K to match), grouped-query attention, SwiGLU, no biases.
    static let llama = Architecture(name: "llama") { _, _ throws(ModelFormatError) in }
}
