/// The shape and hyper-parameters of a LLaMA-family decoder, independent of any weights.
///
/// Built from GGUF metadata (`init(gguf:)`) for a real model, or by hand for timing-only
/// studies of larger shapes (see the `llama3_8B` and `llama2_13B` presets), so that code
/// which only needs dimensions never has to load weights.
public struct ModelConfig: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A label for reports.
    public var name: String
    /// Model width `d` (`llama.embedding_length`).
    public var embeddingLength: Int
    /// Number of transformer blocks (`llama.block_count`).
    public var layerCount: Int
    /// Number of query heads (`llama.attention.head_count`).
    public var headCount: Int
    /// Number of key/value heads (`llama.attention.head_count_kv`); `headCount` without GQA.
    public var kvHeadCount: Int
    /// Width of one head (`llama.attention.key_length`, else `embeddingLength / headCount`).
    public var headDim: Int
    /// Hidden width of the SwiGLU feed-forward network (`llama.feed_forward_length`).
    public var feedForwardLength: Int
    /// Number of tokens in the vocabulary.
    public var vocabularySize: Int
    /// Longest sequence the model was trained for (`llama.context_length`).
    public var contextLength: Int
    /// RoPE base θ (`llama.rope.freq_base`, default 10000).
    public var ropeFreqBase: Float
    /// RMSNorm ε (`llama.attention.layer_norm_rms_epsilon`).
    public var rmsNormEpsilon: Float
    /// Whether the LM head reuses the token embedding matrix (no `output.weight`).
    public var tiedEmbeddings: Bool

    /// Creates a configuration by hand; `headDim` defaults to `embeddingLength / headCount`.
    public init(name: String, embeddingLength: Int, layerCount: Int, headCount: Int, kvHeadCount: Int,
                headDim: Int? = nil, feedForwardLength: Int, vocabularySize: Int, contextLength: Int,
                ropeFreqBase: Float = 10_000, rmsNormEpsilon: Float = 1e-5, tiedEmbeddings: Bool = false) {
        self.name = name
        self.embeddingLength = embeddingLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim ?? (headCount > 0 ? embeddingLength / headCount : 0)
        self.feedForwardLength = feedForwardLength
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeFreqBase = ropeFreqBase
        self.rmsNormEpsilon = rmsNormEpsilon
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Reads the configuration from GGUF metadata (`{arch}.*` keys, arch from `general.architecture`).
    ///
    /// - Throws: `missingKey` for absent required keys, `unsupportedModel` for an
    ///   architecture other than `llama` or inconsistent dimensions.
    public init(gguf: GGUFFile) throws {
        let arch = try gguf.string("general.architecture") ?? "llama"
        guard arch == "llama" else { throw GGUFError.unsupportedModel("architecture '\(arch)' (only 'llama' is implemented)") }
        func required(_ key: String) throws -> Int {
            guard let v = try gguf.int("\(arch).\(key)") else { throw GGUFError.missingKey("\(arch).\(key)") }
            return v
        }
        let d = try required("embedding_length")
        let heads = try required("attention.head_count")
        let kvHeads = try gguf.int("\(arch).attention.head_count_kv") ?? heads
        var vocab = try gguf.int("\(arch).vocab_size")
        if vocab == nil, let tokens = gguf["tokenizer.ggml.tokens"]?.array { vocab = tokens.count }
        if vocab == nil, let embd = try? gguf.tensorInfo(named: "token_embd.weight"), embd.dimensions.count == 2 {
            vocab = embd.dimensions[1]
        }
        guard let vocab else { throw GGUFError.missingKey("\(arch).vocab_size") }
        guard let eps = try gguf.float("\(arch).attention.layer_norm_rms_epsilon") else {
            throw GGUFError.missingKey("\(arch).attention.layer_norm_rms_epsilon")
        }
        let name = try gguf.string("general.name") ?? "gguf-model"
        self.init(name: name, embeddingLength: d, layerCount: try required("block_count"),
                  headCount: heads, kvHeadCount: kvHeads,
                  headDim: try gguf.int("\(arch).attention.key_length") ?? (heads > 0 ? d / heads : 0),
                  feedForwardLength: try required("feed_forward_length"), vocabularySize: vocab,
                  contextLength: try required("context_length"),
                  ropeFreqBase: try gguf.float("\(arch).rope.freq_base") ?? 10_000,
                  rmsNormEpsilon: eps, tiedEmbeddings: !gguf.hasTensor("output.weight"))
        if let ropeDims = try gguf.int("\(arch).rope.dimension_count"), ropeDims != headDim {
            throw GGUFError.unsupportedModel("partial rotary embedding (rope.dimension_count \(ropeDims) ≠ head dim \(headDim))")
        }
        if let valueLength = try gguf.int("\(arch).attention.value_length"), valueLength != headDim {
            throw GGUFError.unsupportedModel("value_length \(valueLength) ≠ key_length \(headDim)")
        }
        if let problem = validationProblem { throw GGUFError.unsupportedModel(problem) }
    }

    /// Why the configuration cannot describe a working model, or `nil` if it can.
    public var validationProblem: String? {
        let sizes = [("embedding_length", embeddingLength), ("block_count", layerCount), ("head_count", headCount),
                     ("head_count_kv", kvHeadCount), ("head dim", headDim), ("feed_forward_length", feedForwardLength),
                     ("vocab size", vocabularySize), ("context_length", contextLength)]
        for (what, v) in sizes where v <= 0 { return "\(what) is \(v)" }
        if headCount % kvHeadCount != 0 { return "head_count \(headCount) is not a multiple of head_count_kv \(kvHeadCount)" }
        if headDim % 2 != 0 { return "head dim \(headDim) is odd (RoPE rotates pairs)" }
        if !(ropeFreqBase > 0) { return "rope.freq_base is \(ropeFreqBase)" }
        if !(rmsNormEpsilon >= 0) { return "layer_norm_rms_epsilon is \(rmsNormEpsilon)" }
        return nil
    }

    // MARK: Derived sizes

    /// Width of all query heads together (`headCount × headDim`).
    public var queryDim: Int { headCount * headDim }
    /// Width of all key (or value) heads together (`kvHeadCount × headDim`).
    public var kvDim: Int { kvHeadCount * headDim }
    /// Query heads that share one key/value head.
    public var groupSize: Int { headCount / kvHeadCount }

    /// Parameters in one transformer block (two norms, four attention and three FFN matrices).
    public var parametersPerLayer: Int {
        let attention = embeddingLength * queryDim * 2 + embeddingLength * kvDim * 2
        return attention + 3 * embeddingLength * feedForwardLength + 2 * embeddingLength
    }

    /// Total parameters, counting a tied embedding once.
    public var parameterCount: Int {
        let embed = vocabularySize * embeddingLength
        return embed * (tiedEmbeddings ? 1 : 2) + layerCount * parametersPerLayer + embeddingLength
    }

    /// Multiply-accumulates for one token at sequence length `context` (matrices plus attention).
    public func macsPerToken(context: Int) -> Int {
        let matrices = layerCount * (parametersPerLayer - 2 * embeddingLength) + vocabularySize * embeddingLength
        return matrices + layerCount * 2 * headCount * headDim * context
    }

    /// Floats held in the KV cache per token (keys and values of every layer).
    public var kvCacheFloatsPerToken: Int { 2 * layerCount * kvDim }

    public var description: String {
        "\(name): d=\(embeddingLength) layers=\(layerCount) heads=\(headCount)/\(kvHeadCount) headDim=\(headDim) " +
            "ffn=\(feedForwardLength) vocab=\(vocabularySize) ctx=\(contextLength) rope=\(ropeFreqBase) eps=\(rmsNormEpsilon)" +
            (tiedEmbeddings ? " tied" : "")
    }

    // MARK: Presets

    /// SmolLM2-135M-Instruct, as stored in its GGUF.
    public static let smolLM2_135M = ModelConfig(
        name: "SmolLM2-135M", embeddingLength: 576, layerCount: 30, headCount: 9, kvHeadCount: 3,
        feedForwardLength: 1536, vocabularySize: 49152, contextLength: 8192,
        ropeFreqBase: 100_000, rmsNormEpsilon: 1e-5, tiedEmbeddings: true)

    /// Meta Llama 3 8B (shape only, for timing studies).
    public static let llama3_8B = ModelConfig(
        name: "Llama-3-8B", embeddingLength: 4096, layerCount: 32, headCount: 32, kvHeadCount: 8,
        feedForwardLength: 14336, vocabularySize: 128_256, contextLength: 8192,
        ropeFreqBase: 500_000, rmsNormEpsilon: 1e-5)

    /// Meta Llama 2 13B (shape only, for timing studies).
    public static let llama2_13B = ModelConfig(
        name: "Llama-2-13B", embeddingLength: 5120, layerCount: 40, headCount: 40, kvHeadCount: 40,
        feedForwardLength: 13824, vocabularySize: 32000, contextLength: 4096,
        ropeFreqBase: 10_000, rmsNormEpsilon: 1e-5)
}
