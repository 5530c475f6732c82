import Foundation
import XCTest
@testable import WaferModel

/// A tiny random LLaMA checked against an independent, Hugging Face-style implementation.
///
/// The naive model below is written the way `transformers` writes LLaMA: full causal
/// attention recomputed over the whole sequence in `Double`, with *rotate-half* RoPE on
/// query/key weights in Hugging Face row order. GGUF stores those rows permuted
/// (llama.cpp's `convert_hf_to_gguf.py` interleaves the two halves of every head) so that
/// adjacent-pair RoPE gives the same result; the naive model undoes that permutation.
final class TinyLlamaTests: XCTestCase {
    static let config = ModelConfig(name: "tiny", embeddingLength: 16, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                    feedForwardLength: 24, vocabularySize: 32, contextLength: 64,
                                    ropeFreqBase: 10_000, rmsNormEpsilon: 1e-5, tiedEmbeddings: false)
    static let tokens = [3, 17, 17, 0, 31, 5, 9, 22, 1, 14]

    // MARK: Independent naive model

    struct Naive {
        let w: ModelWeights

        /// Row `r` of a Hugging Face q/k projection is GGUF row `2i + j` for `r = j·(hd/2) + i`.
        func unpermuted(_ m: WeightMatrix, heads: Int) -> [[Double]] {
            let hd = m.rows / heads, half = hd / 2
            return (0 ..< m.rows).map { r in
                let head = r / hd, within = r % hd
                let j = within / half, i = within % half
                return m.row(head * hd + 2 * i + j).map(Double.init)
            }
        }

        func dense(_ m: WeightMatrix) -> [[Double]] { (0 ..< m.rows).map { m.row($0).map(Double.init) } }
        func apply(_ m: [[Double]], _ x: [Double]) -> [Double] { m.map { zip($0, x).reduce(0) { $0 + $1.0 * $1.1 } } }

        func norm(_ x: [Double], _ g: [Float], _ eps: Double) -> [Double] {
            let ms = x.reduce(0) { $0 + $1 * $1 } / Double(x.count)
            return zip(x, g).map { $0 / (ms + eps).squareRoot() * Double($1) }
        }

        /// Hugging Face `apply_rotary_pos_emb` with `rotate_half`, on one head.
        func rotateHalf(_ x: ArraySlice<Double>, position: Int, base: Double) -> [Double] {
            let x = Array(x), hd = x.count, half = hd / 2
            var out = x
            for i in 0 ..< half {
                let angle = Double(position) / pow(base, Double(2 * i) / Double(hd))
                out[i] = x[i] * cos(angle) - x[i + half] * sin(angle)
                out[i + half] = x[i + half] * cos(angle) + x[i] * sin(angle)
            }
            return out
        }

        /// Logits after every position of `tokens`, recomputing everything from scratch.
        func logits(_ tokens: [Int]) -> [[Double]] {
            let c = w.config, hd = c.headDim, eps = Double(c.rmsNormEpsilon), base = Double(c.ropeFreqBase)
            var xs = tokens.map { w.tokenEmbedding.row($0).map(Double.init) }
            for layer in w.layers {
                let wq = unpermuted(layer.attnQ, heads: c.headCount)
                let wk = unpermuted(layer.attnK, heads: c.kvHeadCount)
                let wv = dense(layer.attnV), wo = dense(layer.attnOutput)
                let hs = xs.map { norm($0, layer.attnNorm, eps) }
                let qs = hs.enumerated().map { t, h -> [[Double]] in
                    let q = apply(wq, h)
                    return (0 ..< c.headCount).map { rotateHalf(q[$0 * hd ..< ($0 + 1) * hd], position: t, base: base) }
                }
                let ks = hs.enumerated().map { t, h -> [[Double]] in
                    let k = apply(wk, h)
                    return (0 ..< c.kvHeadCount).map { rotateHalf(k[$0 * hd ..< ($0 + 1) * hd], position: t, base: base) }
                }
                let vs = hs.map { apply(wv, $0) }
                for t in xs.indices {
                    var concat: [Double] = []
                    for head in 0 ..< c.headCount {
                        let g = head / (c.headCount / c.kvHeadCount)
                        let scores = (0 ... t).map { s in
                            zip(qs[t][head], ks[s][g]).reduce(0) { $0 + $1.0 * $1.1 } / Double(hd).squareRoot()
                        }
                        let m = scores.max()!
                        let e = scores.map { exp($0 - m) }
                        let z = e.reduce(0, +)
                        concat += (0 ..< hd).map { j in (0 ... t).reduce(0) { $0 + e[$1] / z * vs[$1][g * hd + j] } }
                    }
                    xs[t] = zip(xs[t], apply(wo, concat)).map(+)
                }
                let gate = dense(layer.ffnGate), up = dense(layer.ffnUp), down = dense(layer.ffnDown)
                for t in xs.indices {
                    let h = norm(xs[t], layer.ffnNorm, eps)
                    let act = zip(apply(gate, h), apply(up, h)).map { g, u in g / (1 + exp(-g)) * u }
                    xs[t] = zip(xs[t], apply(down, act)).map(+)
                }
            }
            let head = dense(w.output)
            return xs.map { apply(head, norm($0, w.outputNorm, eps)) }
        }
    }

    // MARK: Tests

    func testForwardMatchesNaiveTransformersStyleModel() throws {
        for tied in [false, true] {
            var config = Self.config
            config.tiedEmbeddings = tied
            let weights = try ModelWeights.random(config: config, seed: tied ? 2 : 1)
            let expected = Naive(w: weights).logits(Self.tokens)
            var model = ReferenceModel(weights: weights)
            for (position, token) in Self.tokens.enumerated() {
                let logits = model.forward(token: token, position: position)
                XCTAssertEqual(logits.count, config.vocabularySize)
                let worst = zip(logits, expected[position]).map { abs(Double($0) - $1) }.max()!
                XCTAssertLessThan(worst, 1e-4, "position \(position), tied \(tied)")
            }
            XCTAssertEqual(model.cache.length, Self.tokens.count)
        }
    }

    func testKVCacheEqualsFullRecomputation() throws {
        let weights = try ModelWeights.random(config: Self.config, seed: 3)
        var incremental = ReferenceModel(weights: weights)
        let cached = Self.tokens.enumerated().map { incremental.forward(token: $1, position: $0) }
        // Recompute every prefix from an empty cache; the last logits must match bit for bit.
        for n in 1 ... Self.tokens.count {
            var fresh = ReferenceModel(weights: weights)
            XCTAssertEqual(fresh.prefill(Array(Self.tokens.prefix(n))), cached[n - 1], "prefix \(n)")
        }
        // Rewinding replaces the tail of the cache.
        _ = incremental.forward(token: 4, position: 3)
        XCTAssertEqual(incremental.cache.length, 4)
        XCTAssertEqual(incremental.cache.keys(layer: 1).count, 4 * Self.config.kvDim)
        var other = ReferenceModel(weights: weights)
        let replayed = Array(Self.tokens.prefix(3)) + [4]
        XCTAssertEqual(other.prefill(replayed), Self.prefixLogits(&incremental, replayed))
    }

    /// Logits for `tokens` by rewinding `model` to the last position and replaying it.
    static func prefixLogits(_ model: inout ReferenceModel, _ tokens: [Int]) -> [Float] {
        model.forward(token: tokens[tokens.count - 1], position: tokens.count - 1)
    }

    func testStaticOpsRecomposeEveryObservedStage() throws {
        let weights = try ModelWeights.random(config: Self.config, seed: 12)
        let c = weights.config
        var model = ReferenceModel(weights: weights)
        for (p, t) in Self.tokens.prefix(4).enumerated() { _ = model.forward(token: t, position: p) }
        let position = 4
        var seen: [ReferenceModel.Stage: [Float]] = [:]
        var order: [ReferenceModel.Stage] = []
        let logits = model.forward(token: 7, position: position) { stage, values in
            seen[stage] = values
            order.append(stage)
        }
        XCTAssertEqual(order.count, 3 + 9 * c.layerCount)   // embedding, 9 per layer, final norm, logits
        XCTAssertEqual(seen[.embedding], weights.tokenEmbedding.row(7))
        typealias R = ReferenceModel
        let eps = c.rmsNormEpsilon
        func rotated(_ v: [Float], heads: Int) -> [Float] {
            var v = v
            R.rope(&v, headCount: heads, headDim: c.headDim, position: position, freqBase: c.ropeFreqBase)
            return v
        }
        var residual = try XCTUnwrap(seen[.embedding])
        for (l, layer) in weights.layers.enumerated() {
            // Each stage is recomputed from the previous observed stage with the public ops: bit-exact.
            let xin = R.rmsNorm(residual, weight: layer.attnNorm, epsilon: eps)
            XCTAssertEqual(seen[.attentionInput(layer: l)], xin)
            XCTAssertEqual(seen[.query(layer: l)], rotated(R.matvec(layer.attnQ, xin), heads: c.headCount))
            XCTAssertEqual(seen[.key(layer: l)], rotated(R.matvec(layer.attnK, xin), heads: c.kvHeadCount))
            XCTAssertEqual(seen[.value(layer: l)], R.matvec(layer.attnV, xin))
            let attended = R.attention(query: try XCTUnwrap(seen[.query(layer: l)]), keys: model.cache.keys(layer: l),
                                       values: model.cache.values(layer: l), length: position + 1,
                                       headCount: c.headCount, kvHeadCount: c.kvHeadCount, headDim: c.headDim)
            XCTAssertEqual(seen[.attention(layer: l)], attended)
            let afterAttention = zip(residual, R.matvec(layer.attnOutput, attended)).map(+)
            XCTAssertEqual(seen[.attentionResidual(layer: l)], afterAttention)
            let fin = R.rmsNorm(afterAttention, weight: layer.ffnNorm, epsilon: eps)
            XCTAssertEqual(seen[.ffnInput(layer: l)], fin)
            let hidden = R.swiglu(gate: R.matvec(layer.ffnGate, fin), up: R.matvec(layer.ffnUp, fin))
            XCTAssertEqual(seen[.ffnHidden(layer: l)], hidden)
            residual = zip(afterAttention, R.matvec(layer.ffnDown, hidden)).map(+)
            XCTAssertEqual(seen[.layerOutput(layer: l)], residual)
        }
        let final = R.rmsNorm(residual, weight: weights.outputNorm, epsilon: eps)
        XCTAssertEqual(seen[.finalNorm], final)
        XCTAssertEqual(seen[.logits], R.matvec(weights.output, final))
        XCTAssertEqual(seen[.logits], logits)
    }

    func testGGUFRoundTripGivesIdenticalLogits() throws {
        let weights = try ModelWeights.random(config: Self.config, seed: 4)
        let file = try GGUFFile(data: makeLlamaGGUF(weights))
        var config = try ModelConfig(gguf: file)
        XCTAssertEqual(config, Self.config)
        config.name = "renamed"
        var fromFile = try ReferenceModel(gguf: file)
        var inMemory = ReferenceModel(weights: weights)
        XCTAssertEqual(fromFile.eosTokenID, 1)
        for (p, t) in Self.tokens.prefix(4).enumerated() {
            XCTAssertEqual(fromFile.forward(token: t, position: p), inMemory.forward(token: t, position: p))
        }
        XCTAssertEqual(try ModelWeights(gguf: file, config: config).config.name, "renamed")
    }

    func testGenerateIsGreedyAndStopsAtEOS() throws {
        let weights = try ModelWeights.random(config: Self.config, seed: 6)
        var model = ReferenceModel(weights: weights)
        var streamed: [Int] = []
        let generated = model.generate(prompt: [3, 17], maxTokens: 6, stopAtEOS: false) { streamed.append($0) }
        XCTAssertEqual(generated.count, 6)
        XCTAssertEqual(streamed, generated)
        // Greedy: each token is the arg-max after the prompt plus the tokens before it.
        let sequence = [3, 17] + generated
        let naive = Naive(w: weights).logits(Array(sequence.dropLast()))
        for (i, token) in generated.enumerated() {
            let row = naive[1 + i]
            XCTAssertEqual(token, row.indices.max { row[$0] < row[$1] }, "step \(i)")
        }
        XCTAssertEqual(model.cache.length, 2 + 5)
        // Declaring the first generated token the EOS stops right after it.
        model.eosTokenID = generated[0]
        XCTAssertEqual(model.generate(prompt: [3, 17], maxTokens: 6), [generated[0]])
        XCTAssertEqual(model.generate(prompt: [3, 17], maxTokens: 0), [])
    }

    func testWeightLoadingErrors() throws {
        let weights = try ModelWeights.random(config: Self.config, seed: 8)
        var w = GGUFTestWriter()
        let full = try GGUFFile(data: makeLlamaGGUF(weights))
        for key in full.metadataKeys { w.add(key, Self.writerValue(full[key]!)) }
        // Keep every tensor but blk.1.ffn_up.weight.
        for t in full.tensors where t.name != "blk.1.ffn_up.weight" {
            w.tensors.append(.init(name: t.name, dimensions: t.dimensions.map(UInt64.init), typeID: t.type.rawValue,
                                   bytes: Array(try full.rawBytes(named: t.name))))
        }
        XCTAssertThrowsError(try ReferenceModel(gguf: try GGUFFile(data: w.data))) {
            XCTAssertEqual($0 as? GGUFError, .missingTensor("blk.1.ffn_up.weight"))
        }
        // A transposed matrix is a shape error.
        if let i = w.tensors.firstIndex(where: { $0.name == "blk.0.attn_output.weight" }) {
            w.tensors[i].dimensions = [24, 16]   // wrong: would need 16×16
        }
        let ffnUp = try full.tensorInfo(named: "blk.1.ffn_up.weight")
        w.tensors.append(.init(name: ffnUp.name, dimensions: ffnUp.dimensions.map(UInt64.init), typeID: 0,
                               bytes: Array(try full.rawBytes(named: ffnUp.name))))
        XCTAssertThrowsError(try ModelWeights(gguf: try GGUFFile(data: w.data))) {
            guard case .shapeMismatch(tensor: "blk.0.attn_output.weight", _, _)? = $0 as? GGUFError else {
                return XCTFail("\($0)")
            }
        }
    }

    func testQuantisedWeightsLoad() throws {
        // The same tiny model with its matrices stored as Q8_0: loads, and stays close.
        let config = ModelConfig(name: "tiny-q8", embeddingLength: 32, layerCount: 1, headCount: 4, kvHeadCount: 2,
                                 feedForwardLength: 64, vocabularySize: 8, contextLength: 16, tiedEmbeddings: true)
        let weights = try ModelWeights.random(config: config, seed: 10)
        let f32 = try GGUFFile(data: makeLlamaGGUF(weights))
        var w = GGUFTestWriter()
        for key in f32.metadataKeys { w.add(key, Self.writerValue(f32[key]!)) }
        for t in f32.tensors {
            let values = try f32.floats(of: t)
            if t.dimensions.count == 2 {
                w.tensors.append(.init(name: t.name, dimensions: t.dimensions.map(UInt64.init), typeID: 8,
                                       bytes: Self.quantizeQ8_0(values)))
            } else {
                w.addF32(t.name, dimensions: t.dimensions, values)
            }
        }
        var exact = ReferenceModel(weights: weights)
        var quantised = try ReferenceModel(gguf: try GGUFFile(data: w.data))
        let a = exact.forward(token: 5, position: 0)
        let b = quantised.forward(token: 5, position: 0)
        XCTAssertNotEqual(a, b)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 0.05) }
    }

    static func quantizeQ8_0(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        for block in stride(from: 0, to: values.count, by: 32) {
            let chunk = values[block ..< block + 32]
            let amax = chunk.map(abs).max() ?? 0
            let d = amax / 127
            out += GGUFTestWriter.q8_0Block(scaleBits: GGUFQuantization.floatToHalf(d),
                                            chunk.map { d == 0 ? 0 : Int8(($0 / d).rounded()) })
        }
        return out
    }

    static func writerValue(_ v: GGUFValue) -> GGUFTestWriter.Value {
        switch v {
        case let .uint8(x): return .u8(x)
        case let .int8(x): return .i8(x)
        case let .uint16(x): return .u16(x)
        case let .int16(x): return .i16(x)
        case let .uint32(x): return .u32(x)
        case let .int32(x): return .i32(x)
        case let .float32(x): return .f32(x)
        case let .bool(x): return .bool(x)
        case let .string(x): return .string(x)
        case let .uint64(x): return .u64(x)
        case let .int64(x): return .i64(x)
        case let .float64(x): return .f64(x)
        case let .array(items):
            let converted = items.map(writerValue)
            return .array(elementType: converted.first?.typeID ?? 8, converted)
        }
    }
}
