import Foundation
import WaferSpec

/// Collects what a run did and writes it as a `.wtrace` file, or keeps it in memory.
///
/// The engine reports every span, message, link occupancy and allocation peak here; the
/// recorder decides what to keep from the `detail` level and the optional region and time
/// filters (which apply to spans and messages only: totals are always exact). Chunks are
/// flushed to `<path>.partial` as they fill, and the file is renamed to `path` by `finish`,
/// so a run that dies leaves a readable partial trace and never a half-written final one.
public final class TraceRecorder {
    public let spec: MeshSpec
    public let geometry: MeshGeometry
    public let detail: TraceDetail
    /// Spans and messages are kept only when they touch this region (full detail).
    public var region: CoreRegion?
    /// Spans and messages are kept only when they overlap this window (full detail).
    public var window: CycleWindow?
    /// Free-form run metadata, written in the footer (command, algorithm, errors, …).
    public var metadata: [String: String]

    /// Whole-run counters (including totals a `totalsSource` still holds).
    public var summary: RunSummary { pullTotals(); return summaryStore }
    /// Exact per-link totals (including those a `totalsSource` still holds).
    public var linkTotals: LinkTotals { pullTotals(); return linkStore ?? LinkTotals(linkCount: geometry.linkCount) }
    /// Exact per-core totals so far.
    public var coreTotals: CoreTotals { core.totals() }
    var windows: LinkWindowAccumulator?

    /// Something that accumulates totals on the recorder's behalf (the engine keeps link totals
    /// beside its link state) and hands them over when the recorder needs them: before `finish`,
    /// and whenever `summary` or `linkTotals` is read.
    public weak var totalsSource: (any TraceTotalsSource)?
    @usableFromInline var summaryStore = RunSummary()
    /// Allocated on first use, so a run whose link totals are kept by its engine holds none here.
    private var linkStore: LinkTotals?
    private var pulling = false
    /// Per-core accumulators in raw memory (32 bytes a core during a run; 16 more once the
    /// engine reports each core's final figures).
    @usableFromInline let core: CoreAccumulators

    private(set) var labels: [String] = []
    private var labelIDs: [String: Int32] = [:]
    private var labelsFlushed = 0
    private(set) var spans: [Span] = []
    private(set) var messages: [MessageRecord] = []
    private(set) var kernels: [KernelMark] = []
    private(set) var violations: [Violation] = []

    private let path: String?
    /// Spans and messages are kept (written to the trace or returned by `finish`), not only counted.
    public let keepsRecords: Bool
    private var handle: FileHandle?
    private var finished = false

    /// - Parameters:
    ///   - path: where to write the trace; nil keeps everything in memory (`finish` returns it).
    ///   - keepsRecords: false drops spans and messages once they are counted in the totals, and
    ///     keeps no link time windows (kernel marks, violations, summary and per-core and per-link
    ///     totals stay exact). For an in-memory
    ///     run that reads only totals: its memory then stays flat however long it runs, where a kept
    ///     record per core per kernel invocation would grow with every step.
    public init(spec: MeshSpec, detail: TraceDetail, path: String? = nil,
                metadata: [String: String] = [:], keepsRecords: Bool = true) throws {
        self.spec = spec
        self.keepsRecords = keepsRecords
        geometry = MeshGeometry(spec)
        self.detail = detail
        self.metadata = metadata
        self.path = path
        core = CoreAccumulators(count: geometry.coreCount)
        if detail != .summary && keepsRecords { windows = LinkWindowAccumulator(linkCount: geometry.linkCount) }
        if let path {
            let partial = path + ".partial"
            guard FileManager.default.createFile(atPath: partial, contents: nil) else {
                throw TraceFormatError.io("cannot write trace file '\(partial)'")
            }
            guard let h = FileHandle(forWritingAtPath: partial) else {
                throw TraceFormatError.io("cannot open trace file '\(partial)'")
            }
            handle = h
            let header = TraceFormat.Header(version: TraceFormat.version, spec: spec, detail: detail, metadata: metadata)
            try write(TraceFormat.headerBytes(header))
        }
    }

    /// Bytes of per-core and per-link state the recorder holds (accumulators, link totals and
    /// windows, buffered records); payload-free.
    public var stateBytes: Int { memoryBreakdown.reduce(0) { $0 + $1.bytes } }

    /// `stateBytes` by part.
    public var memoryBreakdown: [(name: String, bytes: Int)] {
        let links = linkStore.map { $0.busyCycles.capacity * 8 + $0.bytes.capacity * 8 + $0.peakQueue.capacity * 4 } ?? 0
        return [("per-core accumulators (\(MemoryLayout<CoreAccumulator>.stride) B a core, 16 more at the end)", core.bytes),
                ("per-link totals (20 B a link, once handed over)", links),
                ("link windows", windows?.bytes ?? 0),
                ("buffered spans and messages", spans.capacity * MemoryLayout<Span>.stride
                    + messages.capacity * MemoryLayout<MessageRecord>.stride)]
    }

    /// Whether spans and messages are recorded one by one (`full` detail, records kept).
    public var recordsEvents: Bool { detail == .full && keepsRecords }

    /// The id of a label, interning it on first use.
    public func label(_ name: String) -> Int32 {
        if let id = labelIDs[name] { return id }
        let id = Int32(labels.count)
        labels.append(name)
        labelIDs[name] = id
        return id
    }

    /// The name of a label id.
    public func labelName(_ id: Int32) -> String { labels.indices.contains(Int(id)) ? labels[Int(id)] : "?" }

    // MARK: - Events from the engine

    /// A compute span that is only counted (when `recordsEvents` is false): the totals `span` adds
    /// for it, without making the span. Inlined into the engine's step.
    ///
    /// - Complexity: O(1).
    @inlinable @inline(__always)
    public func countCompute(core c: Int, cycles: Int64, macs: Int64) {
        let a = core.cores + c
        core.add(cycles, to: &a.pointee.computeCycles, core: c, total: .computeCycles)
        core.add(macs, to: &a.pointee.macs, core: c, total: .macs)
        summaryStore.computeEvents += 1
        summaryStore.totalMacs += macs
    }

    /// A wait span that is only counted (when `recordsEvents` is false). Inlined into the engine.
    @inlinable @inline(__always)
    public func countWait(core c: Int, cycles: Int64) {
        core.add(cycles, to: &core.cores[c].waitCycles, core: c, total: .waitCycles)
    }

    /// A message that is only counted (when `recordsEvents` is false): the totals `message` adds
    /// for it, without making the record. Inlined into the engine.
    ///
    /// - Complexity: O(1).
    @inlinable @inline(__always)
    public func countMessage(source: Int, hops: Int32, relays: Int32) {
        summaryStore.messages += 1
        summaryStore.maxHops = max(summaryStore.maxHops, Int64(hops))
        summaryStore.maxRelays = max(summaryStore.maxRelays, Int64(relays))
        core.cores[source].messagesSent += 1
    }

    /// A span of activity on one core. Totals always; the span itself at `full` detail within filters.
    public func span(_ s: Span) {
        let c = Int(s.core)
        switch s.kind {
        case .compute:
            countCompute(core: c, cycles: s.end - s.start, macs: s.macs)
        case .wait:
            countWait(core: c, cycles: s.end - s.start)
        case .send, .kernel:
            break
        }
        guard keepsRecords, recordsEvents || s.kind == .kernel, passes(core: c, s.start, s.end) else { return }
        spans.append(s)
        if spans.count >= TraceFormat.recordsPerChunk { flushSpans() }
    }

    /// A message whose tail reached its final destination.
    public func message(_ m: MessageRecord) {
        countMessage(source: Int(m.source), hops: m.hops, relays: m.relays)
        guard recordsEvents else { return }
        let inRegion = region.map { r in
            r.contains(x: geometry.x(of: Int(m.source)), y: geometry.y(of: Int(m.source)))
                || r.contains(x: geometry.x(of: Int(m.destination)), y: geometry.y(of: Int(m.destination)))
        } ?? true
        let inWindow = window?.overlaps(Int(m.injection), Int(m.tailArrival) + 1) ?? true
        guard inRegion && inWindow else { return }
        messages.append(m)
        if messages.count >= TraceFormat.recordsPerChunk { flushMessages() }
    }

    /// A directed link carried `cycles` wavelets from `start`; `queued` wavelets were ahead of it.
    ///
    /// - Complexity: O(1) amortised; called once per hop.
    @inline(__always)
    public func linkBusy(_ link: Int, start: Int64, cycles: Int64, bytes: Int64, queued: Int64) {
        if linkStore == nil { linkStore = LinkTotals(linkCount: geometry.linkCount) }
        linkStore!.busyCycles[link] &+= cycles
        linkStore!.bytes[link] &+= bytes
        if queued > Int64(linkStore!.peakQueue[link]) { linkStore!.peakQueue[link] = Int32(clamping: queued) }
        summaryStore.hopEvents &+= 1
        windows?.add(link: link, start: start, cycles: cycles)
    }

    /// Whether link occupancy is also kept per time window (`kernel` and `full` detail).
    public var recordsLinkWindows: Bool { windows != nil }

    /// Adds `cycles` busy cycles of `link` from `start` to the time windows only (for a source
    /// that keeps the link totals itself and hands them over with `addLinkTotals`).
    ///
    /// - Complexity: O(1) amortised.
    public func linkWindow(_ link: Int, start: Int64, cycles: Int64) {
        windows?.add(link: link, start: start, cycles: cycles)
    }

    /// Adds totals gathered elsewhere to `link`'s (sums, and the larger peak queue).
    public func addLinkTotals(_ link: Int, busyCycles: Int64, bytes: Int64, peakQueue: Int32) {
        if linkStore == nil { linkStore = LinkTotals(linkCount: geometry.linkCount) }
        linkStore!.busyCycles[link] &+= busyCycles
        linkStore!.bytes[link] &+= bytes
        if peakQueue > linkStore!.peakQueue[link] { linkStore!.peakQueue[link] = peakQueue }
    }

    /// Adds hop events (link traversals) counted elsewhere.
    public func addHopEvents(_ n: Int64) { summaryStore.hopEvents &+= n }

    private func pullTotals() {
        guard !pulling, let source = totalsSource else { return }
        pulling = true
        source.flushTotals(into: self)
        pulling = false
    }

    /// A core's peak SRAM, colour count and finishing cycle, reported once at the end of a run.
    public func coreFinal(_ core: Int, peakSram: Int, colours: Int, finish: Int64) {
        self.core.final(core, peakSram: Int32(clamping: peakSram), colours: Int32(clamping: colours), finish: finish)
    }

    /// A kernel invocation or phase.
    public func kernel(_ k: KernelMark) { kernels.append(k) }

    /// A PLMR violation.
    public func violation(_ v: Violation) { violations.append(v) }

    /// Sets the run's makespan (the engine's last event).
    public func setMakespan(_ cycles: Int64) { summaryStore.makespanCycles = cycles }

    private func passes(core: Int, _ start: Int64, _ end: Int64) -> Bool {
        if let r = region, !r.contains(x: geometry.x(of: core), y: geometry.y(of: core)) { return false }
        if let w = window, !w.overlaps(Int(start), Int(max(end, start + 1))) { return false }
        return true
    }

    // MARK: - Output

    private func write(_ bytes: [UInt8]) throws {
        guard let handle else { return }
        do { try handle.write(contentsOf: Data(bytes)) } catch {
            throw TraceFormatError.io("cannot write trace: \(error.localizedDescription)")
        }
    }

    private func emit(_ kind: TraceFormat.Kind, count: Int, _ payload: [UInt8]) {
        // Errors here surface at `finish`; a failed write stops further writes.
        if handle != nil {
            do { try write(TraceFormat.frame(kind: kind, count: count, payload: payload)) } catch {
                writeError = error
                try? handle?.close()
                handle = nil
            }
        }
    }

    private var writeError: Error?

    private func flushLabels() {
        guard labels.count > labelsFlushed else { return }
        emit(.labels, count: labels.count - labelsFlushed,
             TraceFormat.encodeLabels(labels[labelsFlushed...], firstID: labelsFlushed))
        labelsFlushed = labels.count
    }

    private func flushSpans() {
        guard path != nil, !spans.isEmpty else { return }
        flushLabels()
        emit(.spans, count: spans.count, TraceFormat.encodeSpans(spans[...]))
        spans.removeAll(keepingCapacity: true)
    }

    private func flushMessages() {
        guard path != nil, !messages.isEmpty else { return }
        emit(.messages, count: messages.count, TraceFormat.encodeMessages(messages[...]))
        messages.removeAll(keepingCapacity: true)
    }

    /// Writes the totals and the footer and renames the file into place (file mode), or returns
    /// the whole trace (memory mode). In file mode the returned trace has every total but no
    /// spans or messages (they are in the file). The recorder cannot be used afterwards.
    @discardableResult
    public func finish() throws -> Trace {
        precondition(!finished, "TraceRecorder.finish called twice")
        pullTotals()
        finished = true
        let summary = summaryStore, linkTotals = linkStore ?? LinkTotals(linkCount: geometry.linkCount)
        let coreTotals = core.totals()
        let trace = Trace(
            spec: spec, detail: detail, metadata: metadata, summary: summary, labels: labels,
            spans: path == nil ? spans : [], messages: path == nil ? messages : [],
            kernels: kernels, violations: violations,
            linkTotals: linkTotals, linkWindows: windows?.result, coreTotals: coreTotals,
            complete: true)
        guard let path else { return trace }
        flushSpans()
        flushMessages()
        flushLabels()
        if !kernels.isEmpty { emit(.kernels, count: kernels.count, TraceFormat.encodeKernels(kernels[...])) }
        if !violations.isEmpty { emit(.violations, count: violations.count, TraceFormat.encodeViolations(violations[...])) }
        let lt = TraceFormat.encodeLinkTotals(linkTotals)
        emit(.linkTotals, count: lt.count, lt.bytes)
        if let w = windows?.result {
            for (i, f) in w.frames.enumerated() {
                let e = TraceFormat.encodeLinkWindow(index: i, windowCycles: w.windowCycles, frame: f)
                emit(.linkWindow, count: e.count, e.bytes)
            }
        }
        emit(.coreTotals, count: coreTotals.macs.count, TraceFormat.encodeCoreTotals(coreTotals))
        let footer = TraceFormat.Footer(summary: summary, metadata: metadata)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        emit(.end, count: 1, Array((try? enc.encode(footer)) ?? Data()))
        if let e = writeError { throw e }
        try handle?.close()
        handle = nil
        let partial = path + ".partial"
        do {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            throw TraceFormatError.io("cannot move trace into place at '\(path)': \(error.localizedDescription)")
        }
        return trace
    }
}

/// An object that accumulates a recorder's totals itself and hands them over on demand.
public protocol TraceTotalsSource: AnyObject {
    /// Adds everything gathered since the last call to `recorder` (with `addLinkTotals`,
    /// `addHopEvents`) and starts again from zero.
    func flushTotals(into recorder: TraceRecorder)
}

/// One core's running totals (16 bytes: four to a cache line). The three 64-bit totals keep their
/// low 32 bits here and anything above in `CoreAccumulators.high`, exactly.
@usableFromInline struct CoreAccumulator {
    @usableFromInline var computeCycles: UInt32
    @usableFromInline var waitCycles: UInt32
    @usableFromInline var macs: UInt32
    @usableFromInline var messagesSent: Int32
}

/// A recorder's per-core accumulators, in memory it owns.
@usableFromInline final class CoreAccumulators {
    let count: Int
    @usableFromInline let cores: UnsafeMutablePointer<CoreAccumulator>
    private var peakSram: [Int32] = []
    private var colours: [Int32] = []
    private var finish: [Int64] = []
    /// The 64-bit totals an accumulator keeps the low 32 bits of.
    @usableFromInline enum Total: Int {
        case computeCycles, waitCycles, macs
    }

    /// The parts above 32 bits of the 64-bit totals, by `core * 3 + total.rawValue`: rare (a
    /// core's 2³²nd cycle or MAC), so kept aside.
    @usableFromInline var high: [Int: Int64] = [:]

    init(count: Int) {
        self.count = count
        cores = .allocate(capacity: max(1, count))
        cores.initialize(repeating: CoreAccumulator(computeCycles: 0, waitCycles: 0, macs: 0, messagesSent: 0), count: count)
    }

    deinit { cores.deallocate() }

    func final(_ c: Int, peakSram p: Int32, colours k: Int32, finish f: Int64) {
        if finish.isEmpty {
            peakSram = Array(repeating: 0, count: count)
            colours = Array(repeating: 0, count: count)
            finish = Array(repeating: 0, count: count)
        }
        peakSram[c] = p; colours[c] = k; finish[c] = f
    }

    /// Bytes held.
    var bytes: Int { count * MemoryLayout<CoreAccumulator>.stride + (peakSram.capacity + colours.capacity) * 4 + finish.capacity * 8 + high.count * 16 }

    /// Adds `value` to `field` (of core `c`'s accumulator, the total numbered `number` in `high`).
    ///
    /// - Complexity: O(1).
    @inlinable @inline(__always)
    func add(_ value: Int64, to field: inout UInt32, core c: Int, total: Total) {
        let (sum, overflow) = field.addingReportingOverflow(UInt32(truncatingIfNeeded: value))
        field = sum
        if overflow || value >> 32 != 0 { carry(value >> 32 &+ (overflow ? 1 : 0), core: c, total: total) }
    }

    /// Adds `units` × 2³² to a total's high part. Out of line: rare.
    @usableFromInline @inline(never) func carry(_ units: Int64, core c: Int, total: Total) {
        high[c &* 3 &+ total.rawValue, default: 0] &+= units << 32
    }

    /// One total of every core.
    ///
    /// - Complexity: O(cores).
    func totals(_ total: Total) -> [Int64] {
        let b = UnsafeBufferPointer(start: cores, count: count)
        var t: [Int64]
        switch total {
        case .computeCycles: t = b.map { Int64($0.computeCycles) }
        case .waitCycles: t = b.map { Int64($0.waitCycles) }
        case .macs: t = b.map { Int64($0.macs) }
        }
        for (key, h) in high where key % 3 == total.rawValue { t[key / 3] &+= h }
        return t
    }

    func totals() -> CoreTotals {
        var t = CoreTotals(coreCount: count)
        let b = UnsafeBufferPointer(start: cores, count: count)
        t.computeCycles = totals(.computeCycles)
        t.waitCycles = totals(.waitCycles)
        t.macs = totals(.macs)
        t.messagesSent = b.map(\.messagesSent)
        if !finish.isEmpty { t.peakSramBytes = peakSram; t.colours = colours; t.finish = finish }
        return t
    }
}
