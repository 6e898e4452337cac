extension Architecture {
    /// Gemma 3, as llama.cpp's `gemma3` graph and Hugging Face's `Gemma3ForCausalLM` compute it:
    /// embeddings scaled by √embedding; per layer RMSNorm → Q/K/V → per-head RMSNorm of Q and K
    /// → NeoX RoPE → attention → `post_attention_norm` → residual, then `ffn_norm` → GeGLU (tanh
    /// GELU) → `post_ffw_norm` → residual. Five of every six layers attend over a sliding window
    /// (`attention.sliding_window`) with RoPE base 10 000; every sixth is global with
    /// `rope.freq_base`. The attention scale is 1/√headDim (1/√(embedding/heads) for the 27B
    /// model, 62 layers). Norm weights are used as stored: the GGUF converter already added
    /// Gemma's +1.
    static let gemma3 = Architecture(name: "gemma3") { c, gguf throws(ModelFormatError) in
        let window = try gguf.requireInt("gemma3.attention.sliding_window")
        guard window >= 1 else {
            throw .unsupported(path: gguf.path, detail: "sliding window \(window)")
        }
        c.ropeNeox = true
        c.activation = .geluTanh
        c.embeddingScale = Float(c.embedding).squareRoot()
        c.headNorms = true
        c.postNorms = true
        if c.layers == 62 { c.attentionScale = 1 / Float(c.embedding / c.heads).squareRoot() }
        c.layerAttention = (0..<c.layers).map { layer in
            layer % 6 < 5
                ? DecoderConfiguration.LayerAttention(ropeBase: 10_000, window: window)
                : DecoderConfiguration.LayerAttention(ropeBase: c.ropeBase, window: nil)
        }
    }
}
