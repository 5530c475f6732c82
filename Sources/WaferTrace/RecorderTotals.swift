/// What runs add to a recorder's running totals: per core and in the summary.
///
/// An engine that replays a run it simulated before (instead of simulating it again) takes the
/// totals before and after the first run and adds their difference for every replay, so the
/// totals come out exactly as if every run had been simulated.
public struct RecorderTotals: Sendable {
    public var computeCycles: [Int64]
    public var waitCycles: [Int64]
    public var macs: [Int64]
    public var messagesSent: [Int32]
    public var messages: Int64
    public var computeEvents: Int64
    public var totalMacs: Int64
    /// Maxima, not sums: a difference keeps the later value (totals only grow, so adding it
    /// later with `max` gives the run's own maximum's effect).
    public var maxHops: Int64
    public var maxRelays: Int64

    /// What was added between `before` and `self`.
    ///
    /// - Complexity: O(cores).
    public func difference(since before: RecorderTotals) -> RecorderTotals {
        func minus<T: FixedWidthInteger>(_ a: [T], _ b: [T]) -> [T] { zip(a, b).map { $0 &- $1 } }
        return RecorderTotals(
            computeCycles: minus(computeCycles, before.computeCycles), waitCycles: minus(waitCycles, before.waitCycles),
            macs: minus(macs, before.macs), messagesSent: minus(messagesSent, before.messagesSent),
            messages: messages - before.messages, computeEvents: computeEvents - before.computeEvents,
            totalMacs: totalMacs - before.totalMacs, maxHops: maxHops, maxRelays: maxRelays)
    }

    /// Bytes held.
    public var bytes: Int { computeCycles.count * 28 + 64 }
}

extension TraceRecorder {
    /// The running totals (what `span` and `message` and their counting forms add to).
    ///
    /// - Complexity: O(cores).
    public func runningTotals() -> RecorderTotals {
        let b = UnsafeBufferPointer(start: core.cores, count: core.count)
        return RecorderTotals(
            computeCycles: core.totals(.computeCycles), waitCycles: core.totals(.waitCycles), macs: core.totals(.macs),
            messagesSent: b.map(\.messagesSent), messages: summaryStore.messages,
            computeEvents: summaryStore.computeEvents, totalMacs: summaryStore.totalMacs,
            maxHops: summaryStore.maxHops, maxRelays: summaryStore.maxRelays)
    }

    /// Adds a difference of running totals (`RecorderTotals.difference(since:)`).
    ///
    /// - Complexity: O(cores).
    public func add(_ d: RecorderTotals) {
        precondition(d.computeCycles.count == core.count, "totals of another mesh")
        for c in 0..<core.count {
            let a = core.cores + c
            core.add(d.computeCycles[c], to: &a.pointee.computeCycles, core: c, total: .computeCycles)
            core.add(d.waitCycles[c], to: &a.pointee.waitCycles, core: c, total: .waitCycles)
            core.add(d.macs[c], to: &a.pointee.macs, core: c, total: .macs)
            a.pointee.messagesSent &+= d.messagesSent[c]
        }
        summaryStore.messages += d.messages
        summaryStore.computeEvents += d.computeEvents
        summaryStore.totalMacs += d.totalMacs
        summaryStore.maxHops = max(summaryStore.maxHops, d.maxHops)
        summaryStore.maxRelays = max(summaryStore.maxRelays, d.maxRelays)
    }
}
