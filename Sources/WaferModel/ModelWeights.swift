/// The weights of one transformer block, dequantised to Float32.
///
/// Matrices are `WeightMatrix` (row-major, rows = outputs, columns = inputs; GGUF's own
/// layout). Shapes for model width `d`, `q = headCount·headDim`, `kv = kvHeadCount·headDim`,
/// FFN width `f`: `attnQ` q×d, `attnK` kv×d, `attnV` kv×d, `attnOutput` d×q, `ffnGate` f×d,
/// `ffnUp` f×d, `ffnDown` d×f; the norms are length-`d` vectors.
///
/// Query and key rows are in GGUF order, i.e. already permuted by the converter so that
/// RoPE rotates *adjacent* pairs (2i, 2i+1) of each head.
public struct LayerWeights: Sendable, Equatable {
    public var attnNorm: [Float]
    public var attnQ: WeightMatrix
    public var attnK: WeightMatrix
    public var attnV: WeightMatrix
    public var attnOutput: WeightMatrix
    public var ffnNorm: [Float]
    public var ffnGate: WeightMatrix
    public var ffnUp: WeightMatrix
    public var ffnDown: WeightMatrix

    public init(attnNorm: [Float], attnQ: WeightMatrix, attnK: WeightMatrix, attnV: WeightMatrix,
                attnOutput: WeightMatrix, ffnNorm: [Float], ffnGate: WeightMatrix, ffnUp: WeightMatrix,
                ffnDown: WeightMatrix) {
        self.attnNorm = attnNorm
        self.attnQ = attnQ
        self.attnK = attnK
        self.attnV = attnV
        self.attnOutput = attnOutput
        self.ffnNorm = ffnNorm
        self.ffnGate = ffnGate
        self.ffnUp = ffnUp
        self.ffnDown = ffnDown
    }
}

/// All weights of a LLaMA model, dequantised to Float32, with the configuration they fit.
///
/// `tokenEmbedding` is vocab×d (row `t` embeds token `t`) and `output` is the vocab×d LM
/// head; when the file has no `output.weight` the two share storage (tied embeddings).
public struct ModelWeights: Sendable {
    public let config: ModelConfig
    public let tokenEmbedding: WeightMatrix
    public let layers: [LayerWeights]
    public let outputNorm: [Float]
    public let output: WeightMatrix

    /// Assembles weights by hand, checking every shape against `config`.
    ///
    /// - Throws: `GGUFError.shapeMismatch` naming the first tensor whose shape is wrong.
    public init(config: ModelConfig, tokenEmbedding: WeightMatrix, layers: [LayerWeights],
                outputNorm: [Float], output: WeightMatrix? = nil) throws {
        if let problem = config.validationProblem { throw GGUFError.unsupportedModel(problem) }
        let d = config.embeddingLength
        func check(_ name: String, _ m: WeightMatrix, _ rows: Int, _ columns: Int) throws {
            guard m.rows == rows, m.columns == columns else {
                throw GGUFError.shapeMismatch(tensor: name, expected: [columns, rows], found: [m.columns, m.rows])
            }
        }
        func check(_ name: String, _ v: [Float], _ count: Int) throws {
            guard v.count == count else { throw GGUFError.shapeMismatch(tensor: name, expected: [count], found: [v.count]) }
        }
        try check("token_embd.weight", tokenEmbedding, config.vocabularySize, d)
        guard layers.count == config.layerCount else {
            throw GGUFError.invalidValue(what: "layer count", detail: "\(layers.count) layers for block_count \(config.layerCount)")
        }
        for (i, l) in layers.enumerated() {
            try check("blk.\(i).attn_norm.weight", l.attnNorm, d)
            try check("blk.\(i).attn_q.weight", l.attnQ, config.queryDim, d)
            try check("blk.\(i).attn_k.weight", l.attnK, config.kvDim, d)
            try check("blk.\(i).attn_v.weight", l.attnV, config.kvDim, d)
            try check("blk.\(i).attn_output.weight", l.attnOutput, d, config.queryDim)
            try check("blk.\(i).ffn_norm.weight", l.ffnNorm, d)
            try check("blk.\(i).ffn_gate.weight", l.ffnGate, config.feedForwardLength, d)
            try check("blk.\(i).ffn_up.weight", l.ffnUp, config.feedForwardLength, d)
            try check("blk.\(i).ffn_down.weight", l.ffnDown, d, config.feedForwardLength)
        }
        try check("output_norm.weight", outputNorm, d)
        if let output { try check("output.weight", output, config.vocabularySize, d) }
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.layers = layers
        self.outputNorm = outputNorm
        self.output = output ?? tokenEmbedding
    }

    /// Loads and dequantises every weight of a LLaMA GGUF file.
    ///
    /// - Parameter config: the configuration to check shapes against; read from the file
    ///   when `nil`.
    /// - Throws: `missingTensor`, `shapeMismatch`, `unsupportedTensorType`, or any metadata error.
    /// - Complexity: O(parameters); about half a gigabyte of Float32 for SmolLM2-135M.
    public init(gguf: GGUFFile, config: ModelConfig? = nil) throws {
        let config = try config ?? ModelConfig(gguf: gguf)
        let d = config.embeddingLength
        func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
            let info = try gguf.tensorInfo(named: name)
            guard info.dimensions == [columns, rows] else {
                throw GGUFError.shapeMismatch(tensor: name, expected: [columns, rows], found: info.dimensions)
            }
            return WeightMatrix(rows: rows, columns: columns, values: try gguf.floats(of: info))
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            let info = try gguf.tensorInfo(named: name)
            guard info.dimensions == [count] else {
                throw GGUFError.shapeMismatch(tensor: name, expected: [count], found: info.dimensions)
            }
            return try gguf.floats(of: info)
        }
        var layers: [LayerWeights] = []
        layers.reserveCapacity(config.layerCount)
        for i in 0 ..< config.layerCount {
            let p = "blk.\(i)."
            layers.append(LayerWeights(
                attnNorm: try vector(p + "attn_norm.weight", count: d),
                attnQ: try matrix(p + "attn_q.weight", rows: config.queryDim, columns: d),
                attnK: try matrix(p + "attn_k.weight", rows: config.kvDim, columns: d),
                attnV: try matrix(p + "attn_v.weight", rows: config.kvDim, columns: d),
                attnOutput: try matrix(p + "attn_output.weight", rows: d, columns: config.queryDim),
                ffnNorm: try vector(p + "ffn_norm.weight", count: d),
                ffnGate: try matrix(p + "ffn_gate.weight", rows: config.feedForwardLength, columns: d),
                ffnUp: try matrix(p + "ffn_up.weight", rows: config.feedForwardLength, columns: d),
                ffnDown: try matrix(p + "ffn_down.weight", rows: d, columns: config.feedForwardLength)))
        }
        let embedding = try matrix("token_embd.weight", rows: config.vocabularySize, columns: d)
        let output = gguf.hasTensor("output.weight")
            ? try matrix("output.weight", rows: config.vocabularySize, columns: d) : nil
        try self.init(config: config, tokenEmbedding: embedding, layers: layers,
                      outputNorm: try vector("output_norm.weight", count: d), output: output)
    }

    /// Reproducible random weights for `config` (uniform, scaled by 1/√fan-in; norms near 1).
    ///
    /// Meant for tests and synthetic runs; the same seed always gives the same weights.
    ///
    /// - Throws: `GGUFError.unsupportedModel` when `config.validationProblem` is not `nil`.
    public static func random(config: ModelConfig, seed: UInt64) throws -> ModelWeights {
        if let problem = config.validationProblem { throw GGUFError.unsupportedModel(problem) }
        var rng = SplitMix64(seed: seed)
        func matrix(_ rows: Int, _ columns: Int) -> WeightMatrix {
            let scale = 1 / Float(columns).squareRoot()
            var values = [Float](repeating: 0, count: rows * columns)
            for i in values.indices { values[i] = rng.nextSymmetric(scale) }
            return WeightMatrix(rows: rows, columns: columns, values: values)
        }
        func norm(_ count: Int) -> [Float] {
            (0 ..< count).map { _ in 1 + rng.nextSymmetric(0.25) }
        }
        let d = config.embeddingLength
        let embedding = WeightMatrix(rows: config.vocabularySize, columns: d,
                                     values: (0 ..< config.vocabularySize * d).map { _ in rng.nextSymmetric(1) })
        let layers = (0 ..< config.layerCount).map { _ in
            LayerWeights(attnNorm: norm(d), attnQ: matrix(config.queryDim, d), attnK: matrix(config.kvDim, d),
                         attnV: matrix(config.kvDim, d), attnOutput: matrix(d, config.queryDim), ffnNorm: norm(d),
                         ffnGate: matrix(config.feedForwardLength, d), ffnUp: matrix(config.feedForwardLength, d),
                         ffnDown: matrix(d, config.feedForwardLength))
        }
        let outputNorm = norm(d)
        let output = config.tiedEmbeddings ? nil : matrix(config.vocabularySize, d)
        return try ModelWeights(config: config, tokenEmbedding: embedding, layers: layers,
                                outputNorm: outputNorm, output: output)
    }
}
