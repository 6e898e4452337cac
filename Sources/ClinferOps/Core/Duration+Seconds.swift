extension Duration {
    /// The duration in seconds, for rates and timings printed to people.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
