/// GPT-2-style byte-level BPE tokenizer, built from a vocabulary and a ranked merge list.
///
/// Encoding runs in four steps, matching Hugging Face `tokenizers` and llama.cpp:
/// 1. special tokens (GGUF token types *control* and *user-defined*, e.g. `<|im_start|>`)
///    are cut out of the text as whole tokens, longest match first;
/// 2. the text between them is split by the `PreTokenizer`;
/// 3. each piece's UTF-8 bytes are mapped to printable scalars (`ByteLevelEncoding`);
/// 4. starting from one symbol per byte, the adjacent pair with the lowest merge rank is
///    merged (all its non-overlapping occurrences, left to right) until no pair has a rank.
///
/// Symbols are held as token ids throughout: a merge `a b` is stored as
/// `(id(a), id(b)) → (rank, id(ab))`, so no strings are built during encoding.
public struct BPETokenizer: Sendable {
    /// GGUF `tokenizer.ggml.token_type` values.
    public enum TokenType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    struct Merge: Sendable {
        var rank: Int
        var result: Int
    }

    let tokens: [String]
    let tokenToID: [String: Int]
    let merges: [UInt64: Merge]
    let byteTokenIDs: [Int]           // token id of each single byte, -1 if absent
    let special: [Int]                // ids of special tokens, longest text first
    let specialBytes: [[UInt8]]       // UTF-8 text of `special[i]`
    let specialByFirstByte: [UInt8: [Int]]  // first byte → indices into `special`
    let isSpecialID: Set<Int>

    /// Beginning-of-sequence token id, if the vocabulary has one.
    public let bosTokenID: Int?
    /// End-of-sequence token id, if the vocabulary has one.
    public let eosTokenID: Int?
    /// Token used for bytes that have no token of their own, if any.
    public let unknownTokenID: Int?
    /// How text is split before BPE.
    public let preTokenizer: PreTokenizer

    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// Builds a tokenizer from its parts.
    ///
    /// - Parameters:
    ///   - tokens: the vocabulary; a token's id is its index.
    ///   - merges: merge rules `"left right"`, highest priority first. Rules whose parts or
    ///     result are not in the vocabulary can never apply and are ignored.
    ///   - specialTokenIDs: ids matched as whole tokens in input text and decoded verbatim.
    /// - Throws: `GGUFError.invalidValue` for a merge rule without a separating space or a
    ///   special/bos/eos id outside the vocabulary.
    public init(tokens: [String], merges: [String], specialTokenIDs: [Int] = [],
                bosTokenID: Int? = nil, eosTokenID: Int? = nil, unknownTokenID: Int? = nil,
                preTokenizer: PreTokenizer = .gpt2) throws {
        var tokenToID: [String: Int] = [:]
        tokenToID.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where tokenToID[t] == nil { tokenToID[t] = i }

        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, rule) in merges.enumerated() {
            guard let space = rule.firstIndex(of: " ") else {
                throw GGUFError.invalidValue(what: "merge rule \(rank)", detail: "'\(rule)' has no space")
            }
            let left = String(rule[..<space])
            let right = String(rule[rule.index(after: space)...])
            guard let l = tokenToID[left], let r = tokenToID[right], let m = tokenToID[left + right] else { continue }
            let key = UInt64(l) << 32 | UInt64(r)
            if table[key] == nil { table[key] = Merge(rank: rank, result: m) }
        }

        var byteIDs = [Int](repeating: -1, count: 256)
        for b in 0 ..< 256 {
            byteIDs[b] = tokenToID[String(ByteLevelEncoding.byteToScalar[b])] ?? -1
        }

        for (what, id) in [("bos", bosTokenID), ("eos", eosTokenID), ("unknown", unknownTokenID)] {
            if let id, !tokens.indices.contains(id) {
                throw GGUFError.invalidValue(what: "\(what) token id", detail: "\(id) is outside the vocabulary of \(tokens.count)")
            }
        }
        var specialIDs: [Int] = []
        for id in Set(specialTokenIDs) {
            guard tokens.indices.contains(id) else {
                throw GGUFError.invalidValue(what: "special token id", detail: "\(id) is outside the vocabulary of \(tokens.count)")
            }
            if !tokens[id].isEmpty { specialIDs.append(id) }
        }
        specialIDs.sort { (tokens[$0].utf8.count, $1) > (tokens[$1].utf8.count, $0) }   // longest first, then lowest id
        let specialBytes = specialIDs.map { Array(tokens[$0].utf8) }
        var byFirst: [UInt8: [Int]] = [:]
        for (i, bytes) in specialBytes.enumerated() { byFirst[bytes[0], default: []].append(i) }

        self.tokens = tokens
        self.tokenToID = tokenToID
        self.merges = table
        self.byteTokenIDs = byteIDs
        self.special = specialIDs
        self.specialBytes = specialBytes
        self.specialByFirstByte = byFirst
        self.isSpecialID = Set(specialIDs)
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.unknownTokenID = unknownTokenID
        self.preTokenizer = preTokenizer
    }

    /// Builds the tokenizer stored in a GGUF file (`tokenizer.ggml.*`).
    ///
    /// - Throws: `missingKey` for absent tokens or merges, `unsupportedModel` when
    ///   `tokenizer.ggml.model` is not `gpt2` or the pre-tokenizer is unknown.
    public init(gguf: GGUFFile) throws {
        let model = try gguf.string("tokenizer.ggml.model") ?? "gpt2"
        guard model == "gpt2" else {
            throw GGUFError.unsupportedModel("tokenizer model '\(model)' (only byte-level BPE 'gpt2' is implemented)")
        }
        guard let tokens = try gguf.stringArray("tokenizer.ggml.tokens") else { throw GGUFError.missingKey("tokenizer.ggml.tokens") }
        guard let merges = try gguf.stringArray("tokenizer.ggml.merges") else { throw GGUFError.missingKey("tokenizer.ggml.merges") }
        let types = try gguf.intArray("tokenizer.ggml.token_type") ?? []
        guard types.isEmpty || types.count == tokens.count else {
            throw GGUFError.invalidValue(what: "tokenizer.ggml.token_type", detail: "\(types.count) entries for \(tokens.count) tokens")
        }
        let specialIDs = types.indices.filter {
            types[$0] == TokenType.control.rawValue || types[$0] == TokenType.userDefined.rawValue
        }
        let pre = try PreTokenizer(ggufName: try gguf.string("tokenizer.ggml.pre") ?? "gpt2")
        try self.init(tokens: tokens, merges: merges, specialTokenIDs: specialIDs,
                      bosTokenID: try gguf.int("tokenizer.ggml.bos_token_id"),
                      eosTokenID: try gguf.int("tokenizer.ggml.eos_token_id"),
                      unknownTokenID: try gguf.int("tokenizer.ggml.unknown_token_id"),
                      preTokenizer: pre)
    }

    // MARK: Vocabulary

    /// The text of token `id` as stored in the vocabulary (byte-level form), or `nil`.
    public func token(for id: Int) -> String? {
        tokens.indices.contains(id) ? tokens[id] : nil
    }

    /// The id of the token whose stored text is exactly `text`, or `nil`.
    public func id(of text: String) -> Int? { tokenToID[text] }

    /// Whether `id` is a special token (matched whole in input, decoded verbatim).
    public func isSpecial(_ id: Int) -> Bool { isSpecialID.contains(id) }

    // MARK: Encoding

    /// Encodes text to token ids. No BOS token is added.
    ///
    /// - Parameter parseSpecialTokens: when `true`, special-token texts in `text` become
    ///   their single ids; when `false` they are tokenized like any other text.
    /// - Complexity: O(n · p) for n bytes and longest pre-token length p.
    public func encode(_ text: String, parseSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        let bytes = Array(text.utf8)
        var segmentStart = 0
        var i = 0
        while i < bytes.count {
            if parseSpecialTokens, let candidates = specialByFirstByte[bytes[i]],
               let match = candidates.first(where: { Self.hasPrefix(bytes, at: i, specialBytes[$0]) }) {
                encodeOrdinary(bytes[segmentStart ..< i], into: &ids)
                ids.append(special[match])
                i += specialBytes[match].count
                segmentStart = i
            } else {
                i += 1
            }
        }
        encodeOrdinary(bytes[segmentStart ..< bytes.count], into: &ids)
        return ids
    }

    private static func hasPrefix(_ bytes: [UInt8], at i: Int, _ prefix: [UInt8]) -> Bool {
        guard bytes.count - i >= prefix.count else { return false }
        for k in 0 ..< prefix.count where bytes[i + k] != prefix[k] { return false }
        return true
    }

    /// Encodes text that contains no special tokens (UTF-8 bytes on scalar boundaries).
    private func encodeOrdinary(_ utf8: ArraySlice<UInt8>, into ids: inout [Int]) {
        guard !utf8.isEmpty else { return }
        let text = String(decoding: utf8, as: UTF8.self)
        for piece in preTokenizer.split(text) {
            ids.append(contentsOf: bpe(Array(piece.utf8)))
        }
    }

    /// Applies the merge rules to one pre-token's bytes.
    ///
    /// - Complexity: O(p²) for p bytes (pre-tokens are short).
    func bpe(_ bytes: [UInt8]) -> [Int] {
        var symbols: [Int] = []
        symbols.reserveCapacity(bytes.count)
        for b in bytes {
            let id = byteTokenIDs[Int(b)]
            if id >= 0 {
                symbols.append(id)
            } else if let unk = unknownTokenID {
                symbols.append(unk)
            }
        }
        while symbols.count > 1 {
            var bestRank = Int.max
            var bestKey: UInt64 = 0
            var bestResult = -1
            for k in 0 ..< symbols.count - 1 {
                let key = UInt64(symbols[k]) << 32 | UInt64(symbols[k + 1])
                if let m = merges[key], m.rank < bestRank {
                    bestRank = m.rank
                    bestKey = key
                    bestResult = m.result
                }
            }
            guard bestResult >= 0 else { break }
            var merged: [Int] = []
            merged.reserveCapacity(symbols.count)
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count, UInt64(symbols[k]) << 32 | UInt64(symbols[k + 1]) == bestKey {
                    merged.append(bestResult)
                    k += 2
                } else {
                    merged.append(symbols[k])
                    k += 1
                }
            }
            symbols = merged
        }
        return symbols
    }

    // MARK: Decoding

    /// The raw bytes token `id` stands for (empty for an unknown id).
    public func bytes(for id: Int) -> [UInt8] {
        guard tokens.indices.contains(id) else { return [] }
        if isSpecialID.contains(id) { return Array(tokens[id].utf8) }
        return ByteLevelEncoding.decode(tokens[id])
    }

    /// Decodes ids back to text; special tokens appear as their text, invalid UTF-8 as U+FFFD.
    ///
    /// - Complexity: O(total token length).
    public func decode(_ ids: [Int]) -> String {
        var out: [UInt8] = []
        for id in ids { out.append(contentsOf: bytes(for: id)) }
        return String(decoding: out, as: UTF8.self)
    }
}
