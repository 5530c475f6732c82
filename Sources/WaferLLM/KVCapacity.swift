import WaferModel
import WaferSpec

/// How many tokens of context fit in a decode grid's SRAM under each KV-cache policy.
///
/// Every core keeps its weight tiles and working buffers (`DecodeWeights.bytes`); what is left
/// holds cache entries. An entry on core (j, i) is the K and V of the column's KV dimensions for
/// every layer. The count follows the same placement bookkeeping the decoder uses
/// (`KVCachePlacement`), including the entry the last row holds before it shifts, so the answer is
/// exactly the length at which a run would hit its first PLMR-M violation.
public struct KVCapacity: Sendable {
    /// The longest context (tokens) that fits, and the core that runs out first.
    public struct Result: Sendable, Equatable {
        public var policy: KVPolicy
        public var maxTokens: Int
        /// (column, row) of the first core to run out.
        public var limitingCore: (x: Int, y: Int)
        public static func == (a: Result, b: Result) -> Bool {
            a.policy == b.policy && a.maxTokens == b.maxTokens && a.limitingCore == b.limitingCore
        }
    }

    public let layout: DecodeLayout
    public let spec: MeshSpec
    /// Layers this grid holds (all of them unless the model is placed over several grids).
    public let layers: Int
    /// Whether this grid also holds the final norm and the LM head.
    public let head: Bool

    public init(layout: DecodeLayout, spec: MeshSpec, layers: Int? = nil, head: Bool = true) {
        self.layout = layout
        self.spec = spec
        self.layers = layers ?? layout.config.layerCount
        self.head = head
    }

    /// Bytes of one cache entry on a core of column `j`.
    public func entryBytes(column j: Int) -> Int {
        2 * layers * layout.kvRange[j].count * spec.elementBytes
    }

    /// Entries core (j, i) can hold after its weights and buffers (negative: the weights alone overflow).
    public func entries(row i: Int, column j: Int) -> Int {
        let used = DecodeWeights.bytes(layout: layout, row: i, col: j, elementBytes: spec.elementBytes,
                                       layers: layers, head: head).reduce(0) { $0 + $1.1 }
        let free = spec.sramBytesPerCore - used
        let e = entryBytes(column: j)
        return e == 0 ? Int.max / 2 : (free < 0 ? -1 : free / e)
    }

    /// The longest context under `policy` (0 when even the weights do not fit).
    ///
    /// - Complexity: O(tokens × rows) for `.shift`, O(rows × columns) for `.concat`.
    public func maxTokens(_ policy: KVPolicy) -> Result {
        var rowLimit = Array(repeating: Int.max, count: layout.rows)
        var rowCore = Array(repeating: 0, count: layout.rows)
        for i in 0..<layout.rows {
            for j in 0..<layout.cols where entries(row: i, column: j) < rowLimit[i] {
                rowLimit[i] = entries(row: i, column: j)
                rowCore[i] = j
            }
        }
        if let bad = rowLimit.firstIndex(where: { $0 < 0 }) {
            return Result(policy: policy, maxTokens: 0, limitingCore: (rowCore[bad], bad))
        }
        let last = layout.rows - 1
        if policy == .concat {
            // Everything stays on the last row.
            return Result(policy: policy, maxTokens: rowLimit[last], limitingCore: (rowCore[last], last))
        }
        // Shift: the same counts `KVCachePlacement` keeps, O(rows) per token.
        var counts = Array(repeating: 0, count: layout.rows)
        var t = 0
        while true {
            // The append lands on the last row before any shift: that peak must fit too.
            if counts[last] + 1 > rowLimit[last] {
                return Result(policy: policy, maxTokens: t, limitingCore: (rowCore[last], last))
            }
            counts[last] += 1
            let target = (t + 1 + layout.rows - 1) / layout.rows
            if layout.rows > 1, counts[last] > target, let room = (0..<last).last(where: { counts[$0] < target }) {
                counts[room] += 1
                counts[last] -= 1
                if counts[room] > rowLimit[room] {
                    return Result(policy: policy, maxTokens: t, limitingCore: (rowCore[room], room))
                }
            }
            t += 1
        }
    }
}
