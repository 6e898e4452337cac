import Foundation

extension WordPieceTokenizer {
    /// Loads the tokenizer of a model directory: `tokenizer.json` (Hugging Face `tokenizers`)
    /// when present, else `vocab.txt` with the flags of `tokenizer_config.json` (when present).
    ///
    /// A directory with neither file, or an unreadable or malformed one, throws
    /// `ModelFormatError`; a tokenizer other than BERT WordPiece throws
    /// `TokenizerError.unsupported`; a vocabulary without its `[UNK]`, `[CLS]` or `[SEP]` token
    /// throws `TokenizerError.invalidVocabulary`.
    public init(directory: String) throws {
        let json = (directory as NSString).appendingPathComponent("tokenizer.json")
        let vocab = (directory as NSString).appendingPathComponent("vocab.txt")
        if FileManager.default.fileExists(atPath: json) {
            try self.init(tokenizerJSON: try modelFileData(json), path: json)
        } else if FileManager.default.fileExists(atPath: vocab) {
            let config = (directory as NSString).appendingPathComponent("tokenizer_config.json")
            let flags =
                FileManager.default.fileExists(atPath: config)
                ? try modelJSONObject(try modelFileData(config), path: config) : [:]
            guard let text = String(data: try modelFileData(vocab), encoding: .utf8) else {
                throw ModelFormatError.corrupt(path: vocab, detail: "not UTF-8 text")
            }
            try self.init(vocabText: text, config: flags)
        } else {
            throw ModelFormatError.missing(
                path: directory, detail: "no tokenizer: neither tokenizer.json nor vocab.txt is in the directory")
        }
    }

    /// A tokenizer from BERT's `vocab.txt` (one token per line, id = line number) and the flags of
    /// a `tokenizer_config.json` object (`do_lower_case`, `strip_accents`,
    /// `tokenize_chinese_chars`, `unk_token`, `cls_token`, `sep_token`, `pad_token`, `mask_token`).
    public init(vocabText: String, config: [String: Any] = [:]) throws(TokenizerError) {
        var lines = vocabText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let lowercase = config["do_lower_case"] as? Bool ?? true
        let normalizer = BertNormalizer(
            handleChineseChars: config["tokenize_chinese_chars"] as? Bool ?? true,
            stripAccents: config["strip_accents"] as? Bool, lowercase: lowercase)
        func token(_ key: String, _ fallback: String) -> String {
            if let text = config[key] as? String { return text }
            if let object = config[key] as? [String: Any], let text = object["content"] as? String { return text }
            return fallback
        }
        let (unknown, classifier, separator, padding, mask) = (
            token("unk_token", "[UNK]"), token("cls_token", "[CLS]"),
            token("sep_token", "[SEP]"), token("pad_token", "[PAD]"), token("mask_token", "[MASK]")
        )
        try self.init(
            tokens: lines, normalizer: normalizer, unknownToken: unknown, classifierToken: classifier,
            separatorToken: separator,
            paddingToken: padding, specialTokens: [padding, unknown, classifier, separator, mask])
    }

    /// A tokenizer from the contents of a Hugging Face `tokenizer.json` with a WordPiece model,
    /// a BERT normalizer and pre-tokenizer (absent normalizer: none), and a `[CLS] $A [SEP]`
    /// template (or BERT post-processor).
    public init(tokenizerJSON data: Data, path: String = "tokenizer.json") throws {
        let root = try modelJSONObject(data, path: path)
        guard let model = root["model"] as? [String: Any] else {
            throw ModelFormatError.corrupt(path: path, detail: "no \"model\" object")
        }
        guard model["type"] as? String == "WordPiece" else {
            throw TokenizerError.unsupported(
                "tokenizer model \(model["type"] as? String ?? "?") in \(path) (WordPiece only)")
        }
        guard let vocab = model["vocab"] as? [String: Int], !vocab.isEmpty else {
            throw ModelFormatError.corrupt(path: path, detail: "model.vocab is not an object of token ids")
        }
        var tokens = [String?](repeating: nil, count: vocab.count)
        for (token, id) in vocab {
            guard tokens.indices.contains(id), tokens[id] == nil else {
                throw TokenizerError.invalidVocabulary(
                    "ids in \(path) are not 0..<\(vocab.count) without gaps (id \(id) for \(token))")
            }
            tokens[id] = token
        }
        var normalizer = BertNormalizer(
            cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
        if let settings = root["normalizer"] as? [String: Any] {
            guard settings["type"] as? String == "BertNormalizer" else {
                throw TokenizerError.unsupported(
                    "normalizer \(settings["type"] as? String ?? "?") in \(path) (BertNormalizer only)")
            }
            let lowercase = settings["lowercase"] as? Bool ?? true
            normalizer = BertNormalizer(
                cleanText: settings["clean_text"] as? Bool ?? true,
                handleChineseChars: settings["handle_chinese_chars"] as? Bool ?? true,
                stripAccents: settings["strip_accents"] as? Bool, lowercase: lowercase)
        }
        if let pre = root["pre_tokenizer"] as? [String: Any], pre["type"] as? String != "BertPreTokenizer" {
            throw TokenizerError.unsupported(
                "pre-tokenizer \(pre["type"] as? String ?? "?") in \(path) (BertPreTokenizer only)")
        }
        var classifier = "[CLS]", separator = "[SEP]"
        if let post = root["post_processor"] as? [String: Any] {
            switch post["type"] as? String {
            case "TemplateProcessing":
                let single = post["single"] as? [[String: Any]] ?? []
                let specials = single.compactMap { ($0["SpecialToken"] as? [String: Any])?["id"] as? String }
                let sequenceIndex = single.firstIndex { $0["Sequence"] != nil }
                guard specials.count == 2, sequenceIndex == 1, single.count == 3 else {
                    throw TokenizerError.unsupported("post-processor template in \(path) is not [CLS] $A [SEP]")
                }
                (classifier, separator) = (specials[0], specials[1])
            case "BertProcessing":
                if let cls = (post["cls"] as? [Any])?.first as? String { classifier = cls }
                if let sep = (post["sep"] as? [Any])?.first as? String { separator = sep }
            case let other:
                throw TokenizerError.unsupported("post-processor \(other ?? "?") in \(path)")
            }
        }
        let added = (root["added_tokens"] as? [[String: Any]] ?? []).filter { $0["special"] as? Bool == true }
            .compactMap { $0["content"] as? String }
        let padding = (root["padding"] as? [String: Any])?["pad_token"] as? String ?? "[PAD]"
        try self.init(
            tokens: tokens.map { $0 ?? "" }, normalizer: normalizer,
            continuingPrefix: model["continuing_subword_prefix"] as? String ?? "##",
            maxInputCharsPerWord: model["max_input_chars_per_word"] as? Int ?? 100,
            unknownToken: model["unk_token"] as? String ?? "[UNK]", classifierToken: classifier,
            separatorToken: separator,
            paddingToken: padding, specialTokens: added.isEmpty ? nil : added)
    }
}

/// The bytes of `path`, or `ModelFormatError.unreadable`.
func modelFileData(_ path: String) throws(ModelFormatError) -> Data {
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw .unreadable(path: path, detail: "\(error.localizedDescription)")
    }
}

/// `data` parsed as one JSON object, or `ModelFormatError.corrupt`.
func modelJSONObject(_ data: Data, path: String) throws(ModelFormatError) -> [String: Any] {
    guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw .corrupt(path: path, detail: "not a JSON object")
    }
    return object
}
