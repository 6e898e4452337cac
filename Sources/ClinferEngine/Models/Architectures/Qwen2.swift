extension Architecture {
    /// Qwen2: Llama's block with biases on the Q, K and V projections and NeoX RoPE pairing.
    static let qwen2 = Architecture(name: "qwen2") { c, _ throws(ModelFormatError) in
        c.ropeNeox = true
        c.qkvBias = true
    }
}
