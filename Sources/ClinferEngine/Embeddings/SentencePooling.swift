import Foundation

/// How token states become one sentence vector, as a sentence-transformers model directory
/// declares it (`modules.json`, `1_Pooling/config.json`): one or more pooling modes
/// (concatenated in sentence-transformers' order: CLS, max, mean, mean·√length), then optional
/// L2 normalisation (the `Normalize` module). Pooling covers every non-padding token, `[CLS]`
/// and `[SEP]` included.
public struct SentencePooling: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// The first token's state.
        case cls
        /// The element-wise maximum over the tokens.
        case max
        /// The mean over the tokens.
        case mean
        /// The sum over the tokens divided by √(token count).
        case meanSqrtLength = "mean_sqrt_len"
    }

    public var modes: [Mode]
    public var normalize: Bool

    public init(modes: [Mode] = [.mean], normalize: Bool = true) {
        self.modes = modes
        self.normalize = normalize
    }

    /// The output width for hidden states of `hidden` values.
    public func dimension(hidden: Int) -> Int { modes.count * hidden }

    /// Pools hidden states [count · sequenceLength, width] of a padded batch whose texts have
    /// `lengths` tokens each; one vector per text.
    public func pool(_ states: [Float], lengths: [Int], sequenceLength: Int, width: Int) -> [[Float]] {
        lengths.enumerated().map { item, length in
            let base = item * sequenceLength * width
            var vector: [Float] = []
            vector.reserveCapacity(modes.count * width)
            for mode in modes {
                switch mode {
                case .cls:
                    vector += states[base..<base + width]
                case .max:
                    var top = [Float](repeating: -.infinity, count: width)
                    for t in 0..<length {
                        for j in 0..<width { top[j] = Swift.max(top[j], states[base + t * width + j]) }
                    }
                    vector += top
                case .mean, .meanSqrtLength:
                    var sum = [Double](repeating: 0, count: width)
                    for t in 0..<length { for j in 0..<width { sum[j] += Double(states[base + t * width + j]) } }
                    let divisor =
                        mode == .mean ? Double(Swift.max(length, 1)) : Double(Swift.max(length, 1)).squareRoot()
                    vector += sum.map { Float($0 / divisor) }
                }
            }
            guard normalize else { return vector }
            let norm = Float(vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
            return vector.map { $0 / Swift.max(norm, 1e-12) }  // torch.nn.functional.normalize's eps
        }
    }
}

extension SentencePooling {
    /// The pooling a sentence-transformers directory declares, and the directory holding the
    /// transformer (its `modules.json` path, usually the directory itself). Without
    /// `modules.json` (a plain Hugging Face BERT directory): mean pooling, no normalisation, as
    /// sentence-transformers defaults to. Modules Clinfer does not run (Dense, other pooling
    /// modes) are `ModelFormatError.unsupported`.
    static func load(directory: String) throws(ModelFormatError) -> (pooling: SentencePooling, transformer: String) {
        let modulesPath = (directory as NSString).appendingPathComponent("modules.json")
        guard FileManager.default.fileExists(atPath: modulesPath) else {
            return (SentencePooling(modes: [.mean], normalize: false), directory)
        }
        guard
            let modules = (try? JSONSerialization.jsonObject(with: try modelFileData(modulesPath))) as? [[String: Any]]
        else {
            throw .corrupt(path: modulesPath, detail: "not a JSON array of modules")
        }
        var pooling: SentencePooling? = nil, normalize = false, transformer: String? = nil
        for module in modules {
            let type = module["type"] as? String ?? "?", path = module["path"] as? String ?? ""
            let location = path.isEmpty ? directory : (directory as NSString).appendingPathComponent(path)
            switch type.split(separator: ".").last.map(String.init) {
            case "Transformer":
                guard transformer == nil else {
                    throw .unsupported(path: modulesPath, detail: "more than one Transformer module")
                }
                transformer = location
            case "Pooling":
                pooling = try poolingModes(configPath: (location as NSString).appendingPathComponent("config.json"))
            case "Normalize":
                normalize = true
            default:
                throw .unsupported(
                    path: modulesPath, detail: "module \(type) (Transformer, Pooling and Normalize only)")
            }
        }
        guard let transformer else { throw .missing(path: modulesPath, detail: "no Transformer module") }
        var result = pooling ?? SentencePooling(modes: [.mean])
        result.normalize = normalize
        return (result, transformer)
    }

    private static func poolingModes(configPath: String) throws(ModelFormatError) -> SentencePooling {
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw .missing(path: configPath, detail: "the Pooling module's config.json is missing")
        }
        let config = try modelJSONObject(try modelFileData(configPath), path: configPath)
        for unsupported in ["pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"]
        where config[unsupported] as? Bool == true {
            throw .unsupported(
                path: configPath, detail: "\(unsupported) (cls, max, mean and mean_sqrt_len pooling only)")
        }
        let flags: [(String, Mode)] = [
            ("pooling_mode_cls_token", .cls), ("pooling_mode_max_tokens", .max),
            ("pooling_mode_mean_tokens", .mean), ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLength),
        ]
        let modes = flags.filter { config[$0.0] as? Bool == true }.map(\.1)
        guard !modes.isEmpty else { throw .unsupported(path: configPath, detail: "no pooling mode is enabled") }
        return SentencePooling(modes: modes, normalize: false)
    }
}
