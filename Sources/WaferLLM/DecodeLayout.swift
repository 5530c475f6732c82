import WaferKernels
import WaferModel

/// How a LLaMA model's tensors are split over a Gx × Gy grid for decode (WaferLLM §5).
///
/// - The residual stream x (length d) is split along Y and replicated along X: core (j, i) holds
///   `x[dRange[i]]`.
/// - Projections that read x (QKV, gate/up, LM head) contract over Y, so their outputs come out
///   split along X and replicated along Y; projections that read those outputs (O, down) contract
///   over X and give back x's layout. Nothing is ever transposed.
/// - Grouped-query attention without copying K/V: column j owns a range of KV dimensions
///   `kvRange[j]` (whole RoPE pairs), and for each of them the `groupSize` query dimensions that
///   attend with it, so q·k and p·V never leave the column. Wq's columns and W_O's rows are
///   permuted offline into that order (`queryIndex[j]`).
/// - The FFN's hidden dimension and the vocabulary are split along X.
public struct DecodeLayout: Sendable {
    public let config: ModelConfig
    public let cols: Int, rows: Int
    public let dRange: [Range<Int>]
    public let kvRange: [Range<Int>]
    public let ffnRange: [Range<Int>]
    public let vocabRange: [Range<Int>]
    /// For column j: the query dimensions it owns, in the order (kv dim e, then head within the group).
    public let queryIndex: [[Int]]

    public init(config: ModelConfig, cols: Int, rows: Int) throws {
        guard cols > 0, rows > 0 else { throw KernelError.shape("decode grid \(cols)x\(rows) must have positive sides") }
        guard config.headDim % 2 == 0 else { throw KernelError.shape("head dimension \(config.headDim) must be even for RoPE pairs") }
        self.config = config
        self.cols = cols
        self.rows = rows
        dRange = Self.split(config.embeddingLength, rows, unit: 1)
        kvRange = Self.split(config.kvDim, cols, unit: 2)
        ffnRange = Self.split(config.feedForwardLength, cols, unit: 1)
        vocabRange = Self.split(config.vocabularySize, cols, unit: 1)
        let g = config.groupSize, hd = config.headDim
        queryIndex = kvRange.map { r in
            r.flatMap { e in (0..<g).map { rr in ((e / hd) * g + rr) * hd + e % hd } }
        }
    }

    /// Splits `0..<n` into `parts` contiguous ranges, as even as whole `unit`s allow (some may be empty).
    static func split(_ n: Int, _ parts: Int, unit: Int) -> [Range<Int>] {
        let units = n / unit
        var out: [Range<Int>] = []
        var start = 0
        for p in 0..<parts {
            let count = units / parts + (p < units % parts ? 1 : 0)
            out.append(start * unit..<min(n, (start + count) * unit))
            start += count
        }
        return out
    }

    /// Number of query heads that meet kv range `j`, and for each local kv dim `e` the head of
    /// each of its `groupSize` query dims.
    public func head(ofQueryIndex q: Int) -> Int { q / config.headDim }
}
