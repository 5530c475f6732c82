/// Where the KV cache grows on the mesh as tokens arrive.
public enum KVPolicy: String, CaseIterable, Sendable {
    /// WaferLLM's shift-based cache: new entries land on the last row, and whenever that row holds
    /// more than its share (⌈tokens / rows⌉), the rows between it and the nearest row above with
    /// room each pass their oldest entry one row up (one hop, all columns in parallel), so the
    /// cache stays spread evenly and contiguous over all rows.
    case shift
    /// The GPU-style cache: every new entry is appended on the last row, which fills up alone.
    case concat
}

/// The host's bookkeeping of which token positions each grid row holds (the same for every
/// column and layer). The mesh moves the numbers; this decides the moves.
public struct KVCachePlacement: Sendable, Equatable {
    public let rows: Int
    public let policy: KVPolicy
    /// Token positions per row, oldest first; rows hold contiguous, increasing ranges.
    public private(set) var tokens: [[Int]]

    public init(rows: Int, policy: KVPolicy) {
        self.rows = rows
        self.policy = policy
        tokens = Array(repeating: [], count: rows)
    }

    public var count: Int { tokens.reduce(0) { $0 + $1.count } }
    public var counts: [Int] { tokens.map(\.count) }

    /// What one new token does to the cache.
    public struct Step: Sendable, Equatable {
        /// The row that stores the new entry.
        public var appendRow: Int
        /// Rows that pass their oldest entry to the row above (after the append).
        public var senders: [Int]
    }

    /// Appends `position` and, under `.shift`, rebalances. Returns the moves the mesh must make.
    public mutating func append(_ position: Int) -> Step {
        let last = rows - 1
        tokens[last].append(position)
        guard policy == .shift, rows > 1 else { return Step(appendRow: last, senders: []) }
        let target = (count + rows - 1) / rows
        guard tokens[last].count > target else { return Step(appendRow: last, senders: []) }
        // The nearest row above with room takes one entry; every row below it passes its oldest up.
        guard let room = (0..<last).last(where: { tokens[$0].count < target }) else {
            return Step(appendRow: last, senders: [])
        }
        let senders = Array((room + 1)...last)
        for i in senders {
            let oldest = tokens[i].removeFirst()
            tokens[i - 1].append(oldest)
        }
        return Step(appendRow: last, senders: senders)
    }
}
