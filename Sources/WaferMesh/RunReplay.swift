import WaferTrace

/// A run the engine simulated, kept so that a later run of a program with the same replay key
/// from the same start state, shifted in time, is replayed instead of simulated.
///
/// The engine is deterministic, and everything a run reads of the engine's state is either in
/// the start state compared here or only ever compared against the clock: a link or ramp free
/// before the run's first cycle is as free as one free at it (every claim takes
/// `max(now, free)` with `now` at or after that cycle). So a run whose program issues the same ops
/// from a start state equal to an earlier run's up to a shift `Δ` in time does exactly what that
/// run did, `Δ` later: the same events in the same order, the same waits, the same messages on
/// the same links. Its effect is the recorded one shifted by `Δ`: end times, link and ramp
/// claims, link and core totals, kernel marks, and (with numerics) the same sequence of works,
/// snapshots, copies and stores, which is replayed on the new program's arithmetic (or, where
/// that tape is too long to keep, redone from the program's ops: `NumericsRerun`).
///
/// Only runs that change nothing else are recorded: no violation, no mail left in a mailbox at
/// either end, no per-event records kept (`full` detail), and SRAM allocated in the run freed in
/// it, with nothing allocated before it freed (so every core's ledger and SRAM use end as they
/// began; the record keeps how far each core's use rose, and a replay needs that much room on
/// every core, else the run is simulated and its violation found). A run's ops never read the
/// ledger otherwise: a free finds the run's own allocation first, whatever lies below it. With a
/// recorder that keeps records at `kernel` or `summary` detail, what the run gave it beyond
/// totals is logged too: its kernel spans and link-window adds, given again shifted.
struct RunRecord {
    let key: AnyHashable
    let routeCount: Int
    let hash: UInt64
    /// The canonical start state (`MeshEngine.canonicalStart`).
    let start: [Int64]
    /// Per core: the clock, then the injection and ejection ramps, then the start of its current
    /// kernel invocation, relative to the run's first cycle (`unchanged` where the run left them).
    let coreEnd: [Int64]
    let pcEnd: [Int32]
    let waitEnd: [Int32]
    let sequenceAdded: [Int32]
    /// Per link: when it is free, relative (`unchanged` where no message took it).
    let linkFree: [Int64]
    let linkBusyAdded: [UInt32]
    let linkBytesAdded: [UInt32]
    /// Queue lengths links reached (link, cycles).
    let peaks: [(Int32, Int32)]
    let totals: RecorderTotals
    let hopEvents: Int64
    /// First and last cycle of each of the program's `replayInvocations` (relative; `unchanged`: none).
    let marks: [Int64]
    let makespan: Int64
    /// Events the run popped, and of them hops (for `EngineStats.replayedEvents`).
    let events: Int64
    let hopCount: Int64
    /// With numerics: the run's works, snapshots, copies (their `c`: the receiving core) and
    /// stores, in the engine's order; split into two lanes on the first replay on two threads,
    /// which then replace it (so such a record replays only on two threads).
    var tape: [NumericsPipeline.Entry]
    var lanes: TapeLanes?
    /// With kept records: the kernel spans the run gave the recorder, in its order, and its
    /// link-window adds (`MeshEngine.logsRecords`).
    let spans: [RecordedSpan]
    let windows: [RecordedWindow]
    let hasNumerics: Bool
    /// The numerics are redone from the program's ops (`NumericsRerun`), not from a tape: the
    /// run's tape was too long to keep.
    let rerunsNumerics: Bool
    /// For a rerun: the cores' colours fed by more than one route, with the routes of their copies
    /// in arrival order (`NumericsRerun`).
    let mixedArrivals: [Int: [Int32]]
    /// Per core, the most SRAM the run held above what the core held when it started (empty: the
    /// run allocated nothing).
    let sramRise: [Int32]
    /// The recorded program's `replayBuffers`: a replay renames the tape's slots from them to its
    /// program's (`SlotMap`).
    let buffers: [Int32]
    var lastUse: Int
    /// The run (`RunReplayCache.runClock`) it was recorded or last replayed in.
    var lastRun = 0
    /// How often it was replayed.
    var replays = 0
    /// Whether it holds numerics (a tape, or a rerun's: its recording cost a tape up to the cap) or
    /// a log for a recorder: what makes records big or costly to make.
    var isHeavy: Bool { hasNumerics || !spans.isEmpty || !windows.isEmpty }

    static let unchanged = Int64.min

    var bytes: Int {
        start.count * 8 + coreEnd.count * 8 + (pcEnd.count + waitEnd.count + sequenceAdded.count) * 4
            + linkFree.count * 16 + peaks.count * 8 + totals.bytes + marks.count * 8
            + tape.count * MemoryLayout<NumericsPipeline.Entry>.stride + (lanes?.bytes ?? 0)
            + spans.count * MemoryLayout<RecordedSpan>.stride + windows.count * MemoryLayout<RecordedWindow>.stride
            + (sramRise.count + buffers.count) * 4 + mixedArrivals.reduce(0) { $0 + 48 + 4 * $1.value.count }
    }
}

/// A kernel span a recorded run gave the recorder: its core, its invocation's place in the
/// program's `replayInvocations`, and its cycles relative to the run's first.
struct RecordedSpan {
    var core: Int32
    var position: Int32
    var start: Int64
    var end: Int64
}

/// A link-window add of a recorded run (`TraceRecorder.linkWindow`), its start relative to the
/// run's first cycle (16 bytes).
struct RecordedWindow {
    var link: Int32
    var cycles: Int32
    var start: Int64
}

/// The state the engine saves before a run it records.
struct RunRecording {
    /// Every invocation's first and last cycle before the run (the program's own cleared): a
    /// run that marks an invocation it does not list is not kept.
    let allFirst: [Int64]
    let allLast: [Int64]
    let key: AnyHashable
    let hash: UInt64
    let start: [Int64]
    let base: Int64
    let cores: [CoreState]
    let links: [LinkState]
    let totals: RecorderTotals
    let hops: Int64
    let makespan: Int64
    let marks: [Int64]
    let events: Int64
    let hopCount: Int64
    let violations: Int
    let carries: Int
    /// Links far from the epoch when the run started (`MeshEngine.farLinkFree`): such a run is
    /// not kept (its links' cycles are not all in `links`).
    let farLinks: Int
}

/// The records kept, within a byte budget (the least recently used go first), and none unused
/// for `maxIdleRuns` runs.
struct RunReplayCache {
    var records: [RunRecord] = []
    var bytes = 0
    var clock = 0
    /// Runs the engine has started (`tick`).
    var runClock = 0
    /// A record not replayed within this many runs of the engine is dropped: runs that recur do so
    /// within a few dozen (a prefill's every 24, a decode step's layers one after another), and a
    /// decode step's records are dead once the step is over (the next step's KV rows make a new
    /// key), so long runs hold the records of the last step or two, not of 32.
    static let maxIdleRuns = 64

    /// At most 32 records are kept (a MeshGEMM prefill's layers start alike every other layer:
    /// 24 runs recur), within 96 MB or two of the largest recorded (a big mesh's records are big:
    /// ~200 B a core, plus its numerics tape); none is kept beyond 512 MB.
    static let maxRecords = 32
    static let baseBudgetBytes = 96 << 20
    static let largestRecordBytes = 512 << 20
    var budgetBytes = Self.baseBudgetBytes
    /// Per family of keys (the type of the key's value: one per kind of program), heavy records
    /// (`RunRecord.isHeavy`) the budget pushed out unreplayed, or runs not kept for their log's
    /// length (`maxEntriesPerCore`) or because their numerics could not be rerun, in a row.
    var wastedRecords: [ObjectIdentifier: Int] = [:]
    /// Whether runs under `key` are still recorded: not once `maxWastedRecords` of its family in a
    /// row were wasted (records too big to keep as many as the recurring runs need: recording
    /// them would only cost). Records kept are still replayed, and other families (a decode
    /// step's layers) still recorded. Timing-only runs without a trace are never given up on.
    func keepsRecording(_ key: AnyHashable) -> Bool { (wastedRecords[Self.family(key)] ?? 0) < Self.maxWastedRecords }
    static let maxWastedRecords = 8
    /// A run whose log of link-window adds (`kernel` detail) grows past this many entries for each
    /// core of the mesh (a cap on the total, whichever cores make them) is not kept; one whose
    /// numerics tape does is kept without it, its numerics rerun from the program's ops on a
    /// replay (`NumericsRerun`). A SmolLM2 decode layer on 96² tapes ~82 a core and logs
    /// ~28 windows; a MeshGEMM prefill's GEMMs tape 950–1,410 (8.8–13 M entries, 141–208 MB) and
    /// log 550–1,040 windows: too big to keep the dozen that recur. Recording them made an
    /// 81-token prefill with numbers 243 → 324 s and 1.27 → 2.17 GB, and a 96-token timing-only
    /// prefill with a `kernel` trace take 356 s (every run simulated, without a trace: 254 s).
    static let maxEntriesPerCore = 256
    static func family(_ key: AnyHashable) -> ObjectIdentifier { ObjectIdentifier(type(of: key.base)) }

    /// What a record of a run on `cores` cores and `links` links holds, numerics aside.
    static func estimatedBytes(cores: Int, links: Int) -> Int { cores * (3 * 8 + 4 * 8 + 3 * 4 + 28) + links * (8 + 8 + 16) }

    func find(key: AnyHashable, routeCount: Int, invocations: Int, buffers: Int, twoThreads: Bool, hash: UInt64, start: [Int64]) -> Int? {
        for i in records.indices where records[i].hash == hash && records[i].routeCount == routeCount
            && records[i].marks.count == 2 * invocations && records[i].buffers.count == buffers && records[i].key == key
            && records[i].start == start
            && (!records[i].hasNumerics || records[i].rerunsNumerics || !records[i].tape.isEmpty || (twoThreads && records[i].lanes != nil)) {
            return i
        }
        return nil
    }

    /// Notes that record `i` is replayed now.
    mutating func use(_ i: Int) {
        clock += 1
        records[i].lastUse = clock
        records[i].lastRun = runClock
        records[i].replays += 1
        if records[i].isHeavy { wastedRecords[Self.family(records[i].key)] = 0 }
    }

    /// Record `i`'s numerics in two lanes (split on first use, and counted in the budget).
    mutating func lanes(of i: Int, coreCount: Int) -> TapeLanes {
        if let l = records[i].lanes { return l }
        let l = TapeLanes(records[i].tape, coreCount: coreCount)
        bytes += l.bytes - records[i].tape.count * MemoryLayout<NumericsPipeline.Entry>.stride
        records[i].lanes = l
        records[i].tape = []
        return l
    }

    mutating func add(_ r: RunRecord) {
        guard r.bytes <= Self.largestRecordBytes else { return }
        budgetBytes = max(budgetBytes, 2 * r.bytes)
        var r = r
        clock += 1
        r.lastUse = clock
        r.lastRun = runClock
        bytes += r.bytes
        records.append(r)
        while bytes > budgetBytes || records.count > Self.maxRecords, let oldest = records.indices.min(by: { records[$0].lastUse < records[$1].lastUse }) {
            drop(oldest)
        }
    }

    /// Counts a run of the engine, and drops the records idle for more than `maxIdleRuns` runs.
    ///
    /// - Complexity: O(records).
    mutating func tick() {
        runClock += 1
        var i = records.count - 1
        while i >= 0 {
            if runClock - records[i].lastRun > Self.maxIdleRuns { drop(i) }
            i -= 1
        }
    }

    /// Drops every record (`MeshEngine.forgetReplays`).
    mutating func forgetAll() {
        for i in records.indices.reversed() { drop(i) }
    }

    /// Removes record `i`, counting it as wasted for its family if it was heavy and never replayed.
    private mutating func drop(_ i: Int) {
        if records[i].isHeavy && records[i].replays == 0 { wastedRecords[Self.family(records[i].key), default: 0] += 1 }
        bytes -= records[i].bytes
        records.remove(at: i)
    }
}

extension MeshEngine {
    /// Whether `program` may be replayed or recorded here: it has a key, the recorder keeps no
    /// per-event records (`kernel` or `summary` detail, or none kept), and its arithmetic (if
    /// any) touches only each core's own buffers.
    func replayKey<P: MeshProgram>(of program: P) -> AnyHashable? {
        guard replaysRuns, let key = program.replayKey, !recorder.recordsEvents, runsAhead else { return nil }
        guard store == nil || program.executesPerCore else { return nil }
        let invs = program.replayInvocations, buffers = program.replayBuffers
        guard Set(invs).count == invs.count, invs.allSatisfy({ $0 >= 0 && Int($0) < invocationFirst.count }) else { return nil }
        guard Set(buffers).count == buffers.count, buffers.allSatisfy({ $0 >= 0 }) else { return nil }
        guard RunReplayCache.estimatedBytes(cores: geometry.coreCount, links: links.count) <= RunReplayCache.largestRecordBytes else { return nil }
        return key
    }

    /// The start state a run depends on, relative to its first cycle `base`: per core the clock and
    /// the ramps (a ramp free before `base` as 0), per link when it is free (likewise); nil when
    /// a mailbox holds mail.
    ///
    /// - Complexity: O(cores + links).
    func canonicalStart(base: Int64) -> (state: [Int64], hash: UInt64)? {
        let n = geometry.coreCount
        var s = [Int64](repeating: 0, count: 3 * n + links.count)
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        @inline(__always) func put(_ i: Int, _ v: Int64) {
            s[i] = v
            h = (h ^ UInt64(bitPattern: v)) &* 0x1000_0000_01B3
            h ^= h >> 29
        }
        for c in 0..<n {
            let cs = cores.base + c
            if cs.pointee.mailHead >= 0 { return nil }
            put(3 * c, cs.pointee.time - base)
            put(3 * c + 1, max(cs.pointee.rampIn - base, 0))
            put(3 * c + 2, max(cs.pointee.rampOut - base, 0))
        }
        for l in 0..<links.count { put(3 * n + l, max(linkFree(links.base + l, l) - base, 0)) }
        return (s, h)
    }

    /// Saves what a recorded run's effect is measured against, and clears the maxima it is
    /// measured by (makespan, the program's kernel marks).
    func beginRecording<P: MeshProgram>(_ program: P, key: AnyHashable, base: Int64, start: [Int64], hash: UInt64) -> RunRecording {
        let invs = program.replayInvocations
        var marks: [Int64] = []
        for inv in invs {
            marks.append(invocationFirst[Int(inv)])
            marks.append(invocationLast[Int(inv)])
            invocationFirst[Int(inv)] = .max
            invocationLast[Int(inv)] = .min
        }
        let r = RunRecording(
            allFirst: Array(UnsafeBufferPointer(start: invocationFirst.base, count: invocationFirst.count)),
            allLast: Array(UnsafeBufferPointer(start: invocationLast.base, count: invocationLast.count)),
            key: key, hash: hash, start: start, base: base,
            cores: Array(UnsafeBufferPointer(start: cores.base, count: cores.count)),
            links: Array(UnsafeBufferPointer(start: links.base, count: links.count)),
            totals: recorder.runningTotals(), hops: hopsUnflushed, makespan: makespan, marks: marks,
            events: counts.events, hopCount: counts.hopEvents, violations: violationCount, carries: linkCarries.count,
            farLinks: farLinkFree.count)
        makespan = .min
        recordOverflowed = false
        // SRAM: the run's own allocations are watched, and its peaks measured from where it starts.
        runAllocations.removeAll(keepingCapacity: true)
        runLiveAllocations = 0
        runFreesEarlier = false
        for c in 0..<geometry.coreCount { cores[c].sramPeak = cores[c].sramNow }
        peakLog.removeAll()
        recordsPeaks = true
        if store != nil {
            tape.removeAll()
            taping = true
            tapeOverflowed = false
            arrivalLog.removeAll()
            tracksRoutes = true
        }
        recordCap = entriesPerCoreLimit * geometry.coreCount
        if recorder.keepsRecords {
            logsRecords = true
            logBroken = false
            logBase = base
            spanLog.removeAll(keepingCapacity: true)
            windowLog = []
            if invocationPosition.count < invocationFirst.count {
                invocationPosition += [Int32](repeating: -1, count: invocationFirst.count - invocationPosition.count)
            }
            for (k, inv) in invs.enumerated() { invocationPosition[Int(inv)] = Int32(k) }
            begunInRun = [Bool](repeating: false, count: geometry.coreCount)
        }
        return r
    }

    /// Restores the maxima `beginRecording` cleared (merged with the run's) and, when the run
    /// changed nothing a replay could not redo, keeps its record.
    func endRecording<P: MeshProgram>(_ r: RunRecording, _ program: P, completed: Bool) {
        let runMakespan = makespan
        makespan = max(r.makespan, runMakespan)
        let invs = program.replayInvocations
        var marks: [Int64] = []
        for (k, inv) in invs.enumerated() {
            let first = invocationFirst[Int(inv)], last = invocationLast[Int(inv)]
            marks.append(first == .max ? RunRecord.unchanged : first - r.base)
            marks.append(last == .min ? RunRecord.unchanged : last - r.base)
            invocationFirst[Int(inv)] = min(first, r.marks[2 * k])
            invocationLast[Int(inv)] = max(last, r.marks[2 * k + 1])
        }
        recordsPeaks = false
        taping = false
        tracksRoutes = false
        defer { arrivalLog = [] }
        let logged = recorder.keepsRecords
        if logged {
            logsRecords = false
            for inv in invs { invocationPosition[Int(inv)] = -1 }
        }
        defer {
            // The logs move into the record (or go): none is kept for the next recording.
            spanLog.removeAll(keepingCapacity: spanLog.capacity <= 1 << 20)
            windowLog = []
        }
        let n = geometry.coreCount
        var sramRise: [Int32] = []
        if !runAllocations.isEmpty { sramRise = (0..<n).map { cores[$0].sramPeak - r.cores[$0].sramNow } }
        for c in 0..<n { cores[c].sramPeak = max(cores[c].sramPeak, r.cores[c].sramPeak) }
        // A tape too long to keep: the record is kept without it, and its numerics are rerun
        // (when they can be: `mixedArrivals`).
        let rerun = tapeOverflowed
        var mixed: [Int: [Int32]]? = [:]
        if rerun && completed && !recordOverflowed { mixed = mixedArrivals(arrivalLog) }
        if recordOverflowed || mixed == nil { replayCache.wastedRecords[RunReplayCache.family(r.key), default: 0] += 1 }
        guard completed, !recordOverflowed, !linkEpochMoved, farLinkFree.isEmpty, r.farLinks == 0, let mixed, !runFreesEarlier, runLiveAllocations == 0, violationCount == r.violations, linkCarries.count == r.carries,
              !(logged && logBroken) else { return }
        for i in r.allFirst.indices where invocationFirst[i] != r.allFirst[i] || invocationLast[i] != r.allLast[i] {
            guard invs.contains(Int32(i)) else { return }
        }
        var coreEnd = [Int64](repeating: RunRecord.unchanged, count: 4 * n)
        var pcEnd = [Int32](repeating: 0, count: n), waitEnd = pcEnd, sequenceAdded = pcEnd
        func relative(_ now: Int64, _ before: Int64) -> Int64 { now == before ? RunRecord.unchanged : now - r.base }
        for c in 0..<n {
            let s = cores[c], b = r.cores[c]
            if s.mailHead >= 0 { return }
            coreEnd[4 * c] = s.time - r.base
            coreEnd[4 * c + 1] = relative(s.rampIn, b.rampIn)
            coreEnd[4 * c + 2] = relative(s.rampOut, b.rampOut)
            coreEnd[4 * c + 3] = relative(s.invocationStart, b.invocationStart)
            pcEnd[c] = s.pc
            waitEnd[c] = s.wait
            sequenceAdded[c] = s.sequence &- b.sequence
        }
        let m = links.count
        var linkFree = [Int64](repeating: RunRecord.unchanged, count: m)
        var busy = [UInt32](repeating: 0, count: m), bytes = busy
        for l in 0..<m {
            let s = links[l], b = r.links[l]
            linkFree[l] = s.free == b.free ? RunRecord.unchanged : linkEpoch &+ Int64(s.free) - r.base
            busy[l] = s.busy &- b.busy
            bytes[l] = s.bytes &- b.bytes
        }
        replayCache.add(RunRecord(
            key: r.key, routeCount: routes.count, hash: r.hash, start: r.start, coreEnd: coreEnd, pcEnd: pcEnd,
            waitEnd: waitEnd, sequenceAdded: sequenceAdded, linkFree: linkFree, linkBusyAdded: busy,
            linkBytesAdded: bytes, peaks: Self.maxima(peakLog), totals: recorder.runningTotals().difference(since: r.totals),
            hopEvents: hopsUnflushed - r.hops, marks: marks,
            makespan: runMakespan == .min ? RunRecord.unchanged : runMakespan - r.base,
            events: counts.events - r.events, hopCount: counts.hopEvents - r.hopCount, tape: tape.count > 0 ? Array(UnsafeBufferPointer(start: tape.base, count: tape.count)) : [],
            lanes: nil, spans: logged ? spanLog : [],
            windows: logged ? windowLog : [],
            hasNumerics: tape.count > 0 || rerun, rerunsNumerics: rerun, mixedArrivals: mixed, sramRise: sramRise, buffers: program.replayBuffers, lastUse: 0))
    }

    /// Adds an entry to the numerics tape of the run being recorded, unless it has grown past
    /// `recordCap`: then taping stops and the run is not kept.
    @inline(__always) func tapeAppend(_ e: NumericsPipeline.Entry) {
        if tape.count >= recordCap {
            taping = false
            tapeOverflowed = true
            tape.removeAll()
            return
        }
        tape.append(e)
    }

    /// Notes that the run being recorded allocated ledger entry `entry`.
    @inline(__always) func watchPush(_ entry: Int32) {
        let e = Int(entry)
        if e >= runAllocations.count { runAllocations += [Bool](repeating: false, count: e + 1 - runAllocations.count) }
        runAllocations[e] = true
        runLiveAllocations += 1
    }

    /// Notes that the run being recorded freed ledger entry `entry` (its own, or one made before it).
    @inline(__always) func watchPop(_ entry: Int32) {
        let e = Int(entry)
        if e < runAllocations.count && runAllocations[e] {
            runAllocations[e] = false
            runLiveAllocations -= 1
        } else {
            runFreesEarlier = true
        }
    }

    /// Whether record `r`'s allocations fit on every core on top of what it holds now.
    ///
    /// - Complexity: O(cores) when the record allocates, else O(1).
    func fitsSRAM(_ r: RunRecord) -> Bool {
        guard !r.sramRise.isEmpty else { return true }
        for c in 0..<geometry.coreCount where Int(cores[c].sramNow) + Int(r.sramRise[c]) > sramLimit { return false }
        return true
    }

    /// The largest queue each link reached, from a log of (link, queue) pairs.
    private static func maxima(_ log: [(Int32, Int32)]) -> [(Int32, Int32)] {
        var top: [Int32: Int32] = [:]
        for (l, q) in log { top[l] = max(top[l] ?? 0, q) }
        return top.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Applies record `i` to a run whose first cycle is `base`, with `program`'s arithmetic.
    ///
    /// - Complexity: O(cores + links + the record's numerics tape, or the program's ops when they are rerun).
    func replay<P: MeshProgram>(record i: Int, _ program: P, base: Int64) throws {
        let r = replayCache.records[i]
        let n = geometry.coreCount
        @inline(__always) func shifted(_ rel: Int64, _ old: Int64) -> Int64 { rel == RunRecord.unchanged ? old : base + rel }
        for c in 0..<n {
            let cs = cores.base + c
            cs.pointee.time = base + r.coreEnd[4 * c]
            cs.pointee.rampIn = shifted(r.coreEnd[4 * c + 1], cs.pointee.rampIn)
            cs.pointee.rampOut = shifted(r.coreEnd[4 * c + 2], cs.pointee.rampOut)
            cs.pointee.invocationStart = shifted(r.coreEnd[4 * c + 3], cs.pointee.invocationStart)
            cs.pointee.pc = r.pcEnd[c]
            cs.pointee.wait = r.waitEnd[c]
            cs.pointee.sequence &+= r.sequenceAdded[c]
        }
        for l in 0..<links.count {
            let ls = links.base + l
            if r.linkFree[l] != RunRecord.unchanged { setLinkFree(ls, l, base + r.linkFree[l], now: base) }
            let (b, o1) = ls.pointee.busy.addingReportingOverflow(r.linkBusyAdded[l])
            let (y, o2) = ls.pointee.bytes.addingReportingOverflow(r.linkBytesAdded[l])
            ls.pointee.busy = b
            ls.pointee.bytes = y
            if o1 || o2 { carry(l, busy: o1, bytes: o2) }
        }
        for (l, q) in r.peaks { peakQueue.raise(Int(l), to: q) }
        if !r.sramRise.isEmpty {
            for c in 0..<n {
                let cs = cores.base + c
                cs.pointee.sramPeak = max(cs.pointee.sramPeak, cs.pointee.sramNow + r.sramRise[c])
            }
        }
        linksDirty = true
        hopsUnflushed &+= r.hopEvents
        recorder.add(r.totals)
        for (k, inv) in program.replayInvocations.enumerated() {
            if r.marks[2 * k] != RunRecord.unchanged { invocationFirst[Int(inv)] = min(invocationFirst[Int(inv)], base + r.marks[2 * k]) }
            if r.marks[2 * k + 1] != RunRecord.unchanged { invocationLast[Int(inv)] = max(invocationLast[Int(inv)], base + r.marks[2 * k + 1]) }
        }
        if r.makespan != RunRecord.unchanged { makespan = max(makespan, base + r.makespan) }
        // What the run gave a recorder keeping records, again and in the same order: the trace
        // file gets the bytes simulating would have written.
        if !r.spans.isEmpty {
            let invs = program.replayInvocations
            for sp in r.spans {
                recorder.span(Span(core: sp.core, kind: .kernel, label: invocationLabel[Int(invs[Int(sp.position)])],
                                   start: base + sp.start, end: base + sp.end, macs: 0))
            }
        }
        for w in r.windows { recorder.linkWindow(Int(w.link), start: base + w.start, cycles: Int64(w.cycles)) }
        counts.replayedRuns += 1
        counts.replayedEvents += r.events
        counts.replayedHopEvents += r.hopCount
        guard r.hasNumerics, let store else { return }
        precondition(activePipeline == nil && messages.carriesPayloads, "numerics replayed while a run is piped")
        if r.rerunsNumerics {
            let rerun = NumericsRerun(routes: routes, coreCount: n, stepOffsets: stepOffset, mixed: r.mixedArrivals)
            if numericsThreads > 1 && NumericsRerun.splits(program, coreCount: n) {
                // Two lanes: this thread and the pipeline's helper.
                if pipeline == nil { pipeline = NumericsPipeline() }
                let helper = pipeline!
                helper.begin(store: store, messages: &messages, deliveries: &deliveries) { _, _ in }
                var failure: Error?
                do {
                    let times = try rerun.run(program, store: store, split: rerunSplit()) { helper.call($0) }
                    if let share = times?.balancedShare { rerunShare = min(0.9, max(0.1, (rerunShare + share) / 2)) }
                } catch { failure = error }
                helper.end(messages: &messages, deliveries: &deliveries)
                if let failure { throw failure }
                counts.rerunNumericsOnTwoThreads += 1
            } else {
                try rerun.run(program, store: store)
            }
            counts.rerunNumerics += 1
            return
        }
        let slots = SlotMap(from: r.buffers, to: program.replayBuffers)
        if numericsThreads > 1 {
            replayLanes(record: i, program, store: store, slots: slots)
        } else {
            replayTape(r.tape, program, store: store, slots: slots)
        }
    }

    /// Where a rerun on two threads splits the cores: `rerunShare` of them, to whole rows, in the
    /// first lane (this thread's).
    private func rerunSplit() -> Int {
        let n = geometry.coreCount, w = max(1, geometry.width)
        let rows = Int((rerunShare * Double(n) / Double(w)).rounded())
        return min(n - 1, max(1, rows * w))
    }

    /// Redoes a recorded run's numerics on two threads (`TapeLanes`): this one and the pipeline's.
    private func replayLanes<P: MeshProgram>(record i: Int, _ program: P, store: PayloadStore, slots: SlotMap) {
        let lanes = replayCache.lanes(of: i, coreCount: geometry.coreCount)
        if pipeline == nil { pipeline = NumericsPipeline() }
        let job = TapeReplay(lanes, store: store, slots: slots,
                             execute: { work, core in program.execute(work: work, core: core, store: store) },
                             prefetch: prefetchesReplays ? { work, core, stage in program.prefetch(work: work, core: core, store: store, stage: stage) } : nil)
        pipeline!.begin(store: store, messages: &messages, deliveries: &deliveries) { _, _ in }
        pipeline!.call { job.run(lane: 1) }
        job.run(lane: 0)
        pipeline!.end(messages: &messages, deliveries: &deliveries)
    }

    /// Redoes a recorded run's numerics, in the recorded order, on this thread.
    ///
    /// The tape says which buffers the next entries touch, so their cache misses can overlap
    /// the entries before them: a decode step on a big grid touches ~30 tiny buffers per core
    /// and layer, scattered in the heap, and without prefetching the replay waits on memory
    /// most of the time. Each buffer is prefetched in three stages (`PrefetchStage`), at
    /// `tapePrefetch` entries ahead: its reference in the store's table, its header, its
    /// elements (works' buffers, through `MeshProgram.prefetch`).
    private func replayTape<P: MeshProgram>(_ tape: [NumericsPipeline.Entry], _ program: P, store: PayloadStore, slots: SlotMap) {
        tape.withUnsafeBufferPointer { t in
            let n = t.count
            @inline(__always) func ahead(_ f: NumericsPipeline.Entry, _ stage: PrefetchStage) {
                switch f.kind {
                case .work: program.prefetch(work: f.b, core: Int(f.a), store: store, stage: stage)
                case .snapshot: if stage != .elements { store.prefetch(Int(f.a), slots[f.b], stage) }
                case .consume: if f.c >= 0 && stage != .elements { store.prefetch(Int(f.b), slots[f.c], stage) }
                default: break
                }
            }
            let prefetches = prefetchesReplays
            for k in 0..<n {
                if prefetches { Self.prefetchAhead(of: k, count: n) { ahead(t[$0], $1) } }
                let e = t[k]
                switch e.kind {
                case .start, .call: break
                case .work: program.execute(work: e.b, core: Int(e.a), store: store)
                case .snapshot: messages.payload[Int(e.c)] = store[Int(e.a), slots[e.b]]
                case .copy: deliveries.payload[Int(e.b)] = messages.payload[Int(e.a)]
                case .move: swap(&deliveries.payload[Int(e.b)], &messages.payload[Int(e.a)])
                case .consume:
                    if e.c >= 0 { swap(&store[Int(e.b), slots[e.c]], &deliveries.payload[Int(e.a)]) }
                    deliveries.payload[Int(e.a)] = []
                }
            }
        }
    }

    /// How many entries ahead a replay prefetches each stage of the buffers an entry touches.
    ///
    /// Chosen on SmolLM2's decode on 96² (one 96² layer's tape is 760 k entries, ~40 ns each):
    /// 16-10-5, 24-16-8 and 32-16-6 did about the same, 64-40-16 and more bought less.
    static let tapePrefetch = (reference: 24, header: 16, elements: 8)

    /// Calls `body(entry, stage)` for the entries `tapePrefetch` ahead of entry `k` of `n`.
    @inline(__always) static func prefetchAhead(of k: Int, count n: Int, _ body: (Int, PrefetchStage) -> Void) {
        if k &+ tapePrefetch.reference < n { body(k &+ tapePrefetch.reference, .reference) }
        if k &+ tapePrefetch.header < n { body(k &+ tapePrefetch.header, .header) }
        if k &+ tapePrefetch.elements < n { body(k &+ tapePrefetch.elements, .elements) }
    }
}

/// How a replay renames the payload slots a recorded run's numerics name: the recorded program's
/// `replayBuffers` to the replaying program's, place by place; every other slot stays.
struct SlotMap {
    private var table: [Int32] = []

    init(from recorded: [Int32], to now: [Int32]) {
        guard recorded != now, let top = recorded.max(), top >= 0 else { return }
        table = (0...top).map { Int32($0) }
        for (a, b) in zip(recorded, now) where a >= 0 { table[Int(a)] = b }
    }

    /// The slot the replay uses for recorded slot `s` (negative: none, kept).
    @inline(__always) subscript(_ s: Int32) -> Int32 { s >= 0 && Int(s) < table.count ? table[Int(s)] : s }
}
