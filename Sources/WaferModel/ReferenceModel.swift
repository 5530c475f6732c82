import Foundation

/// The dense, single-core reference implementation of a LLaMA decoder with a KV cache.
///
/// One call to `forward(token:position:)` runs one token through every block and returns
/// the logits for the next token:
/// ```
/// x = embed[token]
/// for each block:
///     h = rmsNorm(x, attn_norm);  q, k, v = Wq h, Wk h, Wv h;  rope(q), rope(k)
///     cache k, v;  x += Wo · attention(q, cached K, cached V)      (causal, GQA)
///     h = rmsNorm(x, ffn_norm);   x += Wdown · (silu(Wgate h) ⊙ Wup h)
/// logits = Woutput · rmsNorm(x, output_norm)
/// ```
/// The individual operations are public static functions (see `ReferenceOps.swift`) so that
/// other implementations can be checked against them step by step. Everything runs on
/// the calling thread.
public struct ReferenceModel: Sendable {
    /// The model's shape.
    public var config: ModelConfig { weights.config }
    /// The Float32 weights.
    public let weights: ModelWeights
    /// Token that ends a generation when `stopAtEOS` is set (from the GGUF tokenizer metadata).
    public var eosTokenID: Int?
    /// Keys and values of the positions processed so far.
    public private(set) var cache: KVCache

    /// A model over already-loaded weights, with an empty cache.
    public init(weights: ModelWeights, eosTokenID: Int? = nil) {
        self.weights = weights
        self.eosTokenID = eosTokenID
        self.cache = KVCache(layerCount: weights.config.layerCount, kvDim: weights.config.kvDim)
    }

    /// Loads configuration and weights (dequantised to Float32) from a GGUF file.
    ///
    /// - Throws: any `GGUFError` from reading metadata or tensors.
    public init(gguf: GGUFFile) throws {
        self.init(weights: try ModelWeights(gguf: gguf), eosTokenID: try gguf.int("tokenizer.ggml.eos_token_id"))
    }

    /// Forgets all cached positions.
    public mutating func reset() {
        cache.removeAll()
    }

    /// An intermediate activation of `forward`, reported to its observer.
    ///
    /// Listed in the order they occur; `layer` counts from 0. Widths: `d` for residual-stream
    /// stages, `headCount·headDim` for `query` and `attention`, `kvHeadCount·headDim` for
    /// `key` and `value`, the FFN width for `ffnHidden`, the vocabulary for `logits`.
    public enum Stage: Sendable, Hashable {
        /// The token's embedding row (the residual stream entering layer 0).
        case embedding
        /// `rmsNorm(x, attn_norm)`.
        case attentionInput(layer: Int)
        /// `Wq · attentionInput`, after RoPE.
        case query(layer: Int)
        /// `Wk · attentionInput`, after RoPE (as stored in the cache).
        case key(layer: Int)
        /// `Wv · attentionInput`.
        case value(layer: Int)
        /// The concatenated attention heads, before `Wo`.
        case attention(layer: Int)
        /// The residual stream after adding `Wo · attention`.
        case attentionResidual(layer: Int)
        /// `rmsNorm(x, ffn_norm)`.
        case ffnInput(layer: Int)
        /// `silu(Wgate · ffnInput) ⊙ (Wup · ffnInput)`.
        case ffnHidden(layer: Int)
        /// The residual stream leaving the layer.
        case layerOutput(layer: Int)
        /// `rmsNorm(x, output_norm)`.
        case finalNorm
        /// The LM head's output.
        case logits
    }

    /// Runs one token at `position` and returns the next-token logits (`vocabularySize` values).
    ///
    /// Positions must be fed in order: `position` may equal the number of cached positions
    /// (extend) or be smaller (rewind: later positions are dropped first).
    /// - Parameter observe: when given, called with every intermediate activation (see
    ///   `Stage`) so that another implementation can be compared layer by layer.
    /// - Precondition: `0 ≤ token < vocabularySize`, `0 ≤ position ≤ cache.length`,
    ///   `position < contextLength`.
    /// - Complexity: O(parameters + layers × heads × position × headDim).
    public mutating func forward(token: Int, position: Int, observe: ((Stage, [Float]) -> Void)? = nil) -> [Float] {
        let c = config
        precondition((0 ..< c.vocabularySize).contains(token), "forward: token \(token) outside the vocabulary")
        precondition(position >= 0 && position <= cache.length, "forward: position \(position) but \(cache.length) cached")
        precondition(position < c.contextLength, "forward: position \(position) beyond context \(c.contextLength)")
        cache.truncate(to: position)

        let d = c.embeddingLength
        var x = weights.tokenEmbedding.row(token)
        var h = [Float](repeating: 0, count: d)
        var q = [Float](repeating: 0, count: c.queryDim)
        var k = [Float](repeating: 0, count: c.kvDim)
        var v = [Float](repeating: 0, count: c.kvDim)
        var attended = [Float](repeating: 0, count: c.queryDim)
        var projected = [Float](repeating: 0, count: d)
        var gate = [Float](repeating: 0, count: c.feedForwardLength)
        var up = [Float](repeating: 0, count: c.feedForwardLength)
        var scores = [Float](repeating: 0, count: position + 1)
        let (cosines, sines) = Self.ropeCosSin(position: position, headDim: c.headDim, freqBase: c.ropeFreqBase)
        observe?(.embedding, x)

        for l in 0 ..< c.layerCount {
            let layer = weights.layers[l]
            // Attention block.
            Self.applyNorm(x, layer.attnNorm, into: &h, epsilon: c.rmsNormEpsilon)
            observe?(.attentionInput(layer: l), h)
            Self.project(layer.attnQ, h, into: &q)
            Self.project(layer.attnK, h, into: &k)
            Self.project(layer.attnV, h, into: &v)
            cosines.withUnsafeBufferPointer { cp in
                sines.withUnsafeBufferPointer { sp in
                    q.withUnsafeMutableBufferPointer {
                        Self.ropeKernel($0.baseAddress, cp.baseAddress, sp.baseAddress, headCount: c.headCount, headDim: c.headDim)
                    }
                    k.withUnsafeMutableBufferPointer {
                        Self.ropeKernel($0.baseAddress, cp.baseAddress, sp.baseAddress, headCount: c.kvHeadCount, headDim: c.headDim)
                    }
                }
            }
            if let observe {
                observe(.query(layer: l), q)
                observe(.key(layer: l), k)
                observe(.value(layer: l), v)
            }
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in cache.append(layer: l, key: kp, value: vp) }
            }
            cache.keys[l].withUnsafeBufferPointer { kp in
                cache.values[l].withUnsafeBufferPointer { vp in
                    q.withUnsafeBufferPointer { qp in
                        attended.withUnsafeMutableBufferPointer { op in
                            scores.withUnsafeMutableBufferPointer { sp in
                                Self.attentionKernel(qp.baseAddress, kp.baseAddress, vp.baseAddress, op.baseAddress,
                                                     sp.baseAddress, length: position + 1, headCount: c.headCount,
                                                     kvHeadCount: c.kvHeadCount, headDim: c.headDim)
                            }
                        }
                    }
                }
            }
            observe?(.attention(layer: l), attended)
            Self.project(layer.attnOutput, attended, into: &projected)
            Self.addInPlace(&x, projected)
            observe?(.attentionResidual(layer: l), x)

            // Feed-forward block.
            Self.applyNorm(x, layer.ffnNorm, into: &h, epsilon: c.rmsNormEpsilon)
            observe?(.ffnInput(layer: l), h)
            Self.project(layer.ffnGate, h, into: &gate)
            Self.project(layer.ffnUp, h, into: &up)
            gate.withUnsafeMutableBufferPointer { g in
                up.withUnsafeBufferPointer { u in
                    var i = 0
                    while i < g.count {
                        g[i] = Self.silu(g[i]) * u[i]
                        i &+= 1
                    }
                }
            }
            observe?(.ffnHidden(layer: l), gate)
            Self.project(layer.ffnDown, gate, into: &projected)
            Self.addInPlace(&x, projected)
            observe?(.layerOutput(layer: l), x)
        }
        cache.commit()

        Self.applyNorm(x, weights.outputNorm, into: &h, epsilon: c.rmsNormEpsilon)
        observe?(.finalNorm, h)
        var logits = [Float](repeating: 0, count: c.vocabularySize)
        Self.project(weights.output, h, into: &logits)
        observe?(.logits, logits)
        return logits
    }

    /// Runs `tokens` from position 0 (after clearing the cache) and returns the logits after
    /// the last one, or `nil` when `tokens` is empty.
    public mutating func prefill(_ tokens: [Int]) -> [Float]? {
        reset()
        var logits: [Float]?
        for (position, token) in tokens.enumerated() {
            logits = forward(token: token, position: position)
        }
        return logits
    }

    /// Greedy decoding: feeds `prompt` from an empty cache, then repeatedly appends the
    /// arg-max token.
    ///
    /// - Parameters:
    ///   - maxTokens: the most tokens to generate.
    ///   - stopAtEOS: stop after generating `eosTokenID` (which is included in the result).
    ///   - onToken: called with each generated token as soon as it is chosen.
    /// - Returns: the generated tokens (not including the prompt); fewer than `maxTokens`
    ///   when EOS is generated or the context window is full.
    /// - Precondition: the prompt is not empty and not longer than `contextLength`.
    public mutating func generate(prompt: [Int], maxTokens: Int, stopAtEOS: Bool = true,
                                  onToken: ((Int) -> Void)? = nil) -> [Int] {
        precondition(!prompt.isEmpty, "generate: empty prompt")
        guard maxTokens > 0, var logits = prefill(prompt) else { return [] }
        var generated: [Int] = []
        while true {
            let next = Self.argmax(logits) ?? 0
            generated.append(next)
            onToken?(next)
            if stopAtEOS, next == eosTokenID { break }
            if generated.count >= maxTokens { break }
            let position = prompt.count + generated.count - 1
            guard position < config.contextLength else { break }
            logits = forward(token: next, position: position)
        }
        return generated
    }

    // MARK: Helpers over preallocated buffers

    private static func applyNorm(_ x: [Float], _ weight: [Float], into out: inout [Float], epsilon: Float) {
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    rmsNormKernel(xp.baseAddress, wp.baseAddress, op.baseAddress, count: xp.count, epsilon: epsilon)
                }
            }
        }
    }

    private static func project(_ w: WeightMatrix, _ x: [Float], into y: inout [Float]) {
        w.values.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    matvecKernel(wp.baseAddress, xp.baseAddress, yp.baseAddress, rows: w.rows, columns: w.columns)
                }
            }
        }
    }

    private static func addInPlace(_ x: inout [Float], _ y: [Float]) {
        x.withUnsafeMutableBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                var i = 0
                while i < xp.count {
                    xp[i] += yp[i]
                    i &+= 1
                }
            }
        }
    }
}
