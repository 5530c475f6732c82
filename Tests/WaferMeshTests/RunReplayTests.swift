import Foundation
import XCTest
import WaferSpec
@testable import WaferTrace
@testable import WaferMesh

/// A run replayed from an earlier identical one leaves exactly what simulating it leaves: the
/// cores' clocks, the link and core totals, the kernel marks, the makespan and (with numerics,
/// on one host thread or two) every buffer's bits.
final class RunReplayTests: XCTestCase {
    /// Every core computes and multicasts its buffer 0 along its row and along its column (a copy
    /// to each of the next two cores each way), `rounds` times, then takes every copy addressed to
    /// it, mixing each into buffer 0; a second kernel computes once more. Cores' op sizes vary, so
    /// links queue; column copies cross from one half of the mesh to the other (the two lanes of a
    /// numerics replay on two threads).
    struct RowExchange: MeshProgram {
        let routes: [[Int32]]
        let incoming: [[Int]]
        let rounds: Int
        let label: Int32, held: Int32
        let invocations: [Int32]
        let geometry: MeshGeometry
        let keyed: Bool
        let allocates: Allocation
        /// Counts the prefetch hints a replay gives (by stage), when set.
        var hints: PrefetchHints?
        /// An invocation every core begins last and leaves open (the next run ends it).
        var trailing: Int32?
        /// Every core first ends `trailing` (begun by the run before).
        var endsTrailingFirst = false

        /// Declares the routes, along rows (colour 0) and columns (colour 1), once: a run with new
        /// routes is not replayed.
        static func routes(_ e: MeshEngine) throws -> [[Int32]] {
            let g = e.geometry
            return try (0..<g.coreCount).map { c in
                [try e.route(from: c, colour: 0, legs: [RouteLeg(g.x(of: c) + 2 < g.width ? .east : .west, 2, deliverAlong: true)]),
                 try e.route(from: c, colour: 1, legs: [RouteLeg(g.y(of: c) + 2 < g.height ? .south : .north, 2, deliverAlong: true)]),
                 lastSender(c, g) ? try e.route(from: c, colour: 2, legs: [RouteLeg(.east, 1)]) : -1]
            }
        }

        /// Cores whose last op sends a long message east (still on the link and the ramp when the
        /// core finishes, so the next run finds them busy).
        static func lastSender(_ c: Int, _ g: MeshGeometry) -> Bool { g.x(of: c) % 2 == 0 && g.x(of: c) + 1 < g.width }

        init(_ e: MeshEngine, routes: [[Int32]], rounds: Int, keyed: Bool = true, allocates: Allocation = .none) throws {
            let g = e.geometry
            var incoming = [[Int]](repeating: [0, 0], count: g.coreCount)
            for c in 0..<g.coreCount {
                let east = g.x(of: c) + 2 < g.width, south = g.y(of: c) + 2 < g.height
                for k in 1...2 {
                    incoming[east ? c + k : c - k][0] += rounds
                    incoming[south ? c + k * g.width : c - k * g.width][1] += rounds
                }
            }
            self.routes = routes
            self.incoming = incoming
            geometry = g
            self.rounds = rounds
            label = e.label("exchange")
            held = e.label("held")
            invocations = [e.invocation(name: "exchange", params: [:]), e.invocation(name: "finish", params: [:])]
            self.keyed = keyed
            self.allocates = allocates
        }

        var replayKey: AnyHashable? { keyed ? AnyHashable(rounds) : nil }
        var replayInvocations: [Int32] { invocations + (trailing.map { [$0] } ?? []) }
        var executesPerCore: Bool { true }

        func op(core: Int, pc: Int) -> MeshOp? {
            var ops: [MeshOp] = endsTrailingFirst ? [.end(invocation: trailing!)] : []
            ops.append(.begin(invocation: invocations[0]))
            switch allocates {
            case .none: break
            case .own, .crowded: ops.append(.alloc(label: label, bytes: 64))
            case .earlier:
                // Frees what the run before kept, and keeps a new allocation.
                ops.append(.free(label: held))
                ops.append(.alloc(label: held, bytes: 16))
            }
            for r in 0..<rounds {
                ops.append(.compute(macs: 20 + 7 * (core % 5), label: label, work: Int32(r)))
                ops.append(.send(route: routes[core][0], bytes: 16 + 4 * (core % 3), buffer: 0))
                ops.append(.send(route: routes[core][1], bytes: 12, buffer: 0))
            }
            for colour in 0..<2 {
                for k in 0..<incoming[core][colour] {
                    ops.append(.recv(colour: Int32(colour), buffer: 1))
                    ops.append(.compute(macs: 8, label: label, work: Int32(100 + 50 * colour + k)))
                }
            }
            if allocates == .own || allocates == .crowded { ops.append(.free(label: label)) }
            ops += [.end(invocation: invocations[0]), .begin(invocation: invocations[1]),
                    .compute(macs: 50, label: label, work: 999), .end(invocation: invocations[1])]
            if Self.lastSender(core, geometry) { ops.append(.send(route: routes[core][2], bytes: 400, buffer: 0)) }
            if geometry.x(of: core) % 2 == 1 { ops.append(.recv(colour: 2, buffer: 1)) }
            if let t = trailing { ops.append(.begin(invocation: t)) }
            return pc < ops.count ? ops[pc] : nil
        }

        func prefetch(work: Int32, core: Int, store: PayloadStore, stage: PrefetchStage) {
            hints?.count(stage)
            store.prefetch(core, 0, stage)
            store.prefetch(core, 1, stage)
        }

        func execute(work: Int32, core: Int, store: PayloadStore) {
            if store[core, 0].isEmpty { store[core, 0] = (0..<6).map { Float(core * 6 + $0) * 0.01 } }
            let got = store[core, 1]
            for i in 0..<6 {
                let v = i < got.count ? got[i] : 0.5
                store[core, 0][i] = (store[core, 0][i] * 0.75 + v.squareRoot() + Float(work) * 0.125)
                    .truncatingRemainder(dividingBy: 41)
            }
        }
    }

    /// What SRAM a `RowExchange` allocates.
    enum Allocation {
        case none
        /// 64 bytes, freed in the run.
        case own
        /// Frees the allocation the run before kept (before the first run, another program's)
        /// and keeps another.
        case earlier
        /// As `own`, but before run 2 another program fills core 5's SRAM but for 32 bytes.
        case crowded
    }

    /// Allocates `bytes` on core `core` (nil: every core) and keeps them.
    struct Keeper: MeshProgram {
        let core: Int?, bytes: Int, label: Int32
        func op(core: Int, pc: Int) -> MeshOp? { (self.core ?? core) == core && pc == 0 ? .alloc(label: label, bytes: bytes) : nil }
    }

    /// Ends invocation `inv` on every core (begun by the run before).
    struct Closer: MeshProgram {
        let inv: Int32
        func op(core: Int, pc: Int) -> MeshOp? { pc == 0 ? .end(invocation: inv) : nil }
    }

    /// Prefetch hints by stage (the two lanes of a replay give them from two threads).
    final class PrefetchHints: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [PrefetchStage: Int] = [:]
        func count(_ stage: PrefetchStage) { lock.lock(); counts[stage, default: 0] += 1; lock.unlock() }
        subscript(_ stage: PrefetchStage) -> Int { lock.lock(); defer { lock.unlock() }; return counts[stage] ?? 0 }
    }

    struct Outcome: Equatable {
        var summary: RunSummary
        var links: LinkTotals
        var cores: CoreTotals
        var kernels: [KernelMark]
        var times: [Int64]
        var makespan: Int64
        var buffers: [[UInt32]]
        var events: Int64
        var spans: [Span]
        var windows: LinkWindows?
        var violations: [Violation]
    }

    /// Runs 0–2 alike; 3 with some cores starting later (a start state not seen before); 4 like
    /// 0; 5 a different program started at once, on the links and ramps run 4 left (so a replay
    /// must leave them right); 6 a different program from run 0's start state (a key not seen
    /// before); 7 like 6.
    func simulate(replays: Bool, threads: Int = 1, numerics: Bool = false, keepsRecords: Bool = false,
                  keyed: Bool = true, allocates: Allocation = .none, threadsFromRun4: Int? = nil,
                  prefetches: Bool = true, hints: PrefetchHints? = nil,
                  detail: TraceDetail = .summary, path: String? = nil, trailing: Bool = false,
                  endsTrailingFirst: Bool = false, tapeLimit: Int? = nil, gapBeforeRun4: Int64 = 0) throws -> (Outcome, EngineStats) {
        let spec = try MeshSpec.wse2.subgrid(width: 9, height: 4)
        let rec = try TraceRecorder(spec: spec, detail: detail, path: path, keepsRecords: keepsRecords)
        let e = try MeshEngine(spec: spec, recorder: rec, payloadSlots: numerics ? 2 : nil,
                               policy: allocates == .crowded ? .record : .abort)
        e.replaysRuns = replays
        e.numericsThreads = threads
        e.prefetchesReplays = prefetches
        if let tapeLimit { e.entriesPerCoreLimit = tapeLimit }
        let routes = try RowExchange.routes(e)
        let open = trailing || endsTrailingFirst ? e.invocation(name: "open", params: [:]) : nil
        for run in 0..<8 {
            // The host waits for the mesh between runs (so they start alike), except before run 5.
            if run != 5 { e.hold(0..<spec.coreCount, until: e.makespanCycles + (run == 4 ? gapBeforeRun4 : 0)) }
            if run == 3 { e.hold([1, 10, 20], until: e.makespanCycles + 37) }
            if run == 4, let t = threadsFromRun4 { e.numericsThreads = t }
            if run == 0 && allocates == .earlier { try e.run(Keeper(core: nil, bytes: 16, label: e.label("held"))) }
            if run == 2 && allocates == .crowded { try e.run(Keeper(core: 5, bytes: spec.sramBytesPerCore - 32, label: e.label("keeper"))) }
            var program = try RowExchange(e, routes: routes, rounds: run >= 5 ? 2 : 3, keyed: keyed, allocates: allocates)
            program.hints = hints
            program.trailing = open
            program.endsTrailingFirst = endsTrailingFirst
            try e.run(program)
        }
        if let open { try e.run(Closer(inv: open)) }
        let times = (0..<spec.coreCount).map { e.cores[$0].time }
        let buffers = e.store.map { s in (0..<spec.coreCount).flatMap { c in [s[c, 0].map(\.bitPattern), s[c, 1].map(\.bitPattern)] } } ?? []
        let stats = e.stats
        e.finishRecording()
        let trace = try rec.finish()
        return (Outcome(summary: trace.summary, links: trace.linkTotals, cores: trace.coreTotals, kernels: trace.kernels, times: times, makespan: e.makespanCycles, buffers: buffers,
                        events: stats.events + stats.replayedEvents, spans: trace.spans, windows: trace.linkWindows,
                        violations: trace.violations), stats)
    }

    func testReplayedRunsLeaveWhatSimulatedOnesLeave() throws {
        let (simulated, s0) = try simulate(replays: false)
        let (replayed, s1) = try simulate(replays: true)
        XCTAssertEqual(s0.replayedRuns, 0)
        // Runs 1, 2 and 4 replay run 0, run 7 replays run 6.
        XCTAssertEqual(s1.replayedRuns, 4)
        XCTAssertLessThan(s1.events, s0.events)
        XCTAssertEqual(replayed.summary, simulated.summary)
        XCTAssertEqual(replayed.links, simulated.links)
        XCTAssertEqual(replayed.cores, simulated.cores)
        XCTAssertEqual(replayed.kernels, simulated.kernels)
        XCTAssertEqual(replayed, simulated)
        XCTAssertEqual(simulated.kernels.count, 16)
        XCTAssertGreaterThan(simulated.links.peakQueue.max() ?? 0, 0, "links must queue for the peaks to be checked")
    }

    /// Run 4 starts 3·10⁹ cycles after run 3 ends: the links' epoch moves (`MeshEngine.linkEpoch`)
    /// before run 4 replays run 0, and run 5 starts on the links run 4 left.
    func testReplaysAfterTheLinkEpochMovedLeaveWhatSimulatedOnesLeave() throws {
        let gap: Int64 = 3_000_000_000
        let (simulated, _) = try simulate(replays: false, gapBeforeRun4: gap)
        let (replayed, s1) = try simulate(replays: true, gapBeforeRun4: gap)
        XCTAssertEqual(s1.replayedRuns, 4)
        XCTAssertEqual(replayed, simulated)
        XCTAssertGreaterThan(simulated.makespan, gap)
        // Only the times moved: every total is what the runs without the gap gave.
        let (plain, _) = try simulate(replays: false)
        XCTAssertEqual(simulated.links, plain.links)
        XCTAssertEqual(simulated.events, plain.events)
    }

    func testReplayedNumericsGiveTheBitsOfSimulatedOnesOnOneAndTwoThreads() throws {
        let (simulated, _) = try simulate(replays: false, numerics: true)
        XCTAssertFalse(simulated.buffers.isEmpty)
        for threads in [1, 2] {
            let (replayed, stats) = try simulate(replays: true, threads: threads, numerics: true)
            XCTAssertEqual(stats.replayedRuns, 4, "\(threads) thread(s)")
            XCTAssertEqual(replayed, simulated, "\(threads) thread(s)")
        }
        // Runs whose tapes outgrow the limit (each core tapes about 50 entries a run here) are kept
        // without their tapes, and their numerics are rerun from the program's ops: every core
        // here takes row copies on one colour from two routes, in the recorded order.
        for threads in [1, 2] {
            let (capped, cappedStats) = try simulate(replays: true, threads: threads, numerics: true, tapeLimit: 8)
            XCTAssertEqual(cappedStats.replayedRuns, 4, "\(threads) thread(s)")
            XCTAssertEqual(cappedStats.rerunNumerics, 4, "\(threads) thread(s)")
            XCTAssertEqual(capped, simulated, "\(threads) thread(s)")
        }
        let (roomy, roomyStats) = try simulate(replays: true, numerics: true, tapeLimit: 200)
        XCTAssertEqual(roomyStats.replayedRuns, 4)
        XCTAssertEqual(roomy, simulated)
        // A record replayed on two threads keeps only its two lanes: on one thread run 4 is
        // simulated again (and recorded), not replayed from it.
        let (switched, stats) = try simulate(replays: true, threads: 2, numerics: true, threadsFromRun4: 1)
        XCTAssertEqual(stats.replayedRuns, 3)
        XCTAssertEqual(switched, simulated)
    }

    /// A replay hints the program's buffers ahead of its works, stage by stage (each stage
    /// covers the works the farther stages did and the first few of the tape), and only when
    /// `prefetchesReplays`; the hints change no bit.
    func testReplaysPrefetchAheadOfTheirWorksWithoutChangingAnything() throws {
        let (simulated, _) = try simulate(replays: false, numerics: true)
        for threads in [1, 2] {
            let on = PrefetchHints(), off = PrefetchHints()
            let (prefetched, s1) = try simulate(replays: true, threads: threads, numerics: true, hints: on)
            let (unprefetched, s2) = try simulate(replays: true, threads: threads, numerics: true, prefetches: false, hints: off)
            XCTAssertEqual(s1.replayedRuns, 4)
            XCTAssertEqual(s2.replayedRuns, 4)
            XCTAssertEqual(prefetched, simulated, "\(threads) thread(s)")
            XCTAssertEqual(unprefetched, simulated, "\(threads) thread(s)")
            XCTAssertEqual(off[.reference] + off[.header] + off[.elements], 0)
            XCTAssertGreaterThan(on[.reference], 0)
            XCTAssertLessThanOrEqual(on[.reference], on[.header])
            XCTAssertLessThanOrEqual(on[.header], on[.elements])
        }
    }

    /// `PayloadStore.prefetch` only hints: every stage, on empty, small and large buffers and on
    /// cores and slots out of range, leaves every buffer as it was.
    func testStorePrefetchChangesNothing() {
        let store = PayloadStore(coreCount: 3, slotsPerCore: 2)
        store[0, 0] = [1, 2, 3]
        store[1, 1] = (0..<5000).map(Float.init)
        let before = store.buffers
        for stage in [PrefetchStage.reference, .header, .elements] {
            for core in -1...3 { for slot in Int32(-1)...2 { store.prefetch(core, slot, stage) } }
            store.prefetch(1, 1, stage, maxLines: 1000)
        }
        XCTAssertEqual(store.buffers, before)
        store.withMutableBuffer(1, 1, count: 5000, zeroed: false) { b in
            XCTAssertEqual(b[4999], 4999)
        }
    }

    /// A run that ends a kernel span begun before it (a core's first op ends the invocation the
    /// run before left open) is not recorded with a trace: the span's start would not move with
    /// the run. Without kept records (no spans) it is.
    func testRunsEndingSpansBegunBeforeThemAreNotRecordedWithATrace() throws {
        let (simulated, _) = try simulate(replays: false, keepsRecords: true, detail: .kernel, endsTrailingFirst: true)
        let (replayed, stats) = try simulate(replays: true, keepsRecords: true, detail: .kernel, endsTrailingFirst: true)
        XCTAssertEqual(stats.replayedRuns, 0)
        XCTAssertEqual(replayed, simulated)
        let (_, untraced) = try simulate(replays: true, endsTrailingFirst: true)
        XCTAssertEqual(untraced.replayedRuns, 4)
    }

    /// Runs with per-event records kept (`full` detail), runs that free SRAM allocated before
    /// them or keep what they allocate, and runs with no key are always simulated.
    func testRunsThatKeepSRAMKeepEveryEventOrHaveNoKeyAreSimulated() throws {
        for (detail, keyed, allocates) in [(TraceDetail.full, true, Allocation.none), (.summary, false, .none), (.summary, true, .earlier)] {
            let (replayed, stats) = try simulate(replays: true, keepsRecords: true, keyed: keyed, allocates: allocates, detail: detail)
            let (simulated, _) = try simulate(replays: false, keepsRecords: true, keyed: keyed, allocates: allocates, detail: detail)
            XCTAssertEqual(stats.replayedRuns, 0, "\(detail) keyed \(keyed) allocates \(allocates)")
            XCTAssertEqual(replayed, simulated)
            if allocates == .earlier { XCTAssertEqual(simulated.cores.peakSramBytes.max(), 16) }
        }
    }

    /// A run that frees all it allocates is replayed, and leaves the cores' peak SRAM as
    /// simulating it does (with numerics too); one whose allocations would not fit on a core
    /// now is simulated, and its violation found.
    func testRunsThatFreeWhatTheyAllocateAreReplayedWhereTheyFit() throws {
        for numerics in [false, true] {
            let (simulated, _) = try simulate(replays: false, numerics: numerics, allocates: .own)
            let (replayed, stats) = try simulate(replays: true, numerics: numerics, allocates: .own)
            XCTAssertEqual(stats.replayedRuns, 4)
            XCTAssertEqual(replayed, simulated)
            XCTAssertEqual(simulated.cores.peakSramBytes.max(), 64)
        }
        // Core 5 has 32 bytes left from run 2 on: runs 2–7 violate there.
        let (simulated, _) = try simulate(replays: false, allocates: .crowded)
        let (replayed, stats) = try simulate(replays: true, allocates: .crowded)
        XCTAssertEqual(stats.replayedRuns, 1, "run 1 replays run 0; no run is recorded after core 5 fills")
        XCTAssertEqual(replayed, simulated)
        XCTAssertEqual(simulated.violations.count, 6)
    }

    /// Every core sends buffer `source` to its pair's other core along its row (columns 0 and 1,
    /// 2 and 3), which stores it in buffer
    /// `target`, then adds 1 to its buffer `source`; `source` is its `replayBuffers`.
    struct Pass: MeshProgram {
        let routes: [Int32]
        let source: Int32, target: Int32
        let label: Int32
        var replayKey: AnyHashable? { AnyHashable("pass") }
        var replayBuffers: [Int32] { [source] }
        var executesPerCore: Bool { true }
        func op(core: Int, pc: Int) -> MeshOp? {
            let ops: [MeshOp] = [.send(route: routes[core], bytes: 16, buffer: source), .recv(colour: 0, buffer: target),
                                 .compute(macs: 4, label: label, work: 0)]
            return pc < ops.count ? ops[pc] : nil
        }
        func execute(work: Int32, core: Int, store: PayloadStore) {
            store[core, source] = store[core, source].map { $0 + 1 }
        }
    }

    /// A replay renames the recorded program's listed buffers to the new one's: the bits are the
    /// ones simulating gives, the new source being another slot, the recorded one again, or the
    /// slot the run stores into.
    func testReplaysRenameListedBuffers() throws {
        func outcome(replays: Bool) throws -> ([[UInt32]], Int) {
            let spec = try MeshSpec.wse2.subgrid(width: 4, height: 3)
            let e = try MeshEngine(spec: spec, recorder: try TraceRecorder(spec: spec, detail: .summary), payloadSlots: 4)
            e.replaysRuns = replays
            e.numericsThreads = 1
            let g = e.geometry
            let routes = try (0..<g.coreCount).map { c in
                try e.route(from: c, colour: 0, legs: [RouteLeg(g.x(of: c) % 2 == 0 ? .east : .west, 1)])
            }
            for c in 0..<g.coreCount { for s in 0..<4 { e.store![c, Int32(s)] = [Float(c * 10 + s)] } }
            let label = e.label("pass")
            for source in [0, 1, 0, 3, 2] as [Int32] {
                e.hold(0..<g.coreCount, until: e.makespanCycles)
                try e.run(Pass(routes: routes, source: source, target: 2, label: label))
            }
            let bits = (0..<g.coreCount).flatMap { c in (0..<4).map { e.store![c, Int32($0)].map(\.bitPattern) } }
            return (bits, Int(e.stats.replayedRuns))
        }
        let (simulated, _) = try outcome(replays: false)
        let (replayed, count) = try outcome(replays: true)
        XCTAssertEqual(count, 4, "sources 1, 0, 3 and 2 replay the first run")
        XCTAssertEqual(replayed, simulated)
    }

    /// A record of `key` starting at `start`, with a one-entry numerics tape or none.
    static func record(key: AnyHashable, start: Int64, numerics: Bool) -> RunRecord {
        RunRecord(key: key, routeCount: 0, hash: UInt64(start), start: [start], coreEnd: [], pcEnd: [], waitEnd: [], sequenceAdded: [],
                  linkFree: [], linkBusyAdded: [], linkBytesAdded: [], peaks: [], totals: RecorderTotals(computeCycles: [], waitCycles: [], macs: [], messagesSent: [], messages: 0, computeEvents: 0,
                                                                   totalMacs: 0, maxHops: 0, maxRelays: 0), hopEvents: 0,
                  marks: [], makespan: 0, events: 0, hopCount: 0,
                  tape: numerics ? [NumericsPipeline.Entry(kind: .work, a: 0, b: 0, c: 0)] : [], lanes: nil, spans: [], windows: [],
                  hasNumerics: numerics, rerunsNumerics: false, mixedArrivals: [:], sramRise: [], buffers: [], lastUse: 0)
    }

    /// Once `maxWastedTapes` records with numerics of one family of keys in a row are pushed out
    /// unreplayed, runs of that family are no longer recorded with numerics (their tapes would
    /// only cost); other families are, and a replay of the family's records starts the count again.
    func testFamiliesWhoseTapesArePushedOutUnusedStopBeingTaped() throws {
        let prefill = AnyHashable("gemm"), decode = AnyHashable(7)
        let limit = RunReplayCache.maxRecords + RunReplayCache.maxWastedRecords
        // Timing-only records pushed out unused count for nothing.
        var cache = RunReplayCache()
        for k in 0..<limit { cache.add(Self.record(key: prefill, start: Int64(k), numerics: false)) }
        XCTAssertEqual(cache.records.count, RunReplayCache.maxRecords)
        XCTAssertTrue(cache.keepsRecording(prefill))
        cache = RunReplayCache()
        for k in 0..<limit - 1 { cache.add(Self.record(key: prefill, start: Int64(k), numerics: true)) }
        XCTAssertTrue(cache.keepsRecording(prefill))
        cache.add(Self.record(key: prefill, start: Int64(limit - 1), numerics: true))
        XCTAssertFalse(cache.keepsRecording(prefill))
        XCTAssertTrue(cache.keepsRecording(decode))
        let hit = try XCTUnwrap(cache.find(key: prefill, routeCount: 0, invocations: 0, buffers: 0, twoThreads: false,
                                           hash: UInt64(limit - 1), start: [Int64(limit - 1)]))
        cache.use(hit)
        XCTAssertTrue(cache.keepsRecording(prefill))
    }

    /// A record not replayed within `maxIdleRuns` runs of the engine is dropped (a long run of
    /// decode steps holds its last steps' records, not 32), and one that was heavy and never
    /// replayed counts against its family.
    func testRecordsIdleForManyRunsAreDropped() throws {
        var cache = RunReplayCache()
        cache.add(Self.record(key: AnyHashable("a"), start: 0, numerics: true))
        cache.add(Self.record(key: AnyHashable("b"), start: 1, numerics: false))
        for _ in 0..<RunReplayCache.maxIdleRuns - 1 { cache.tick() }
        cache.use(try XCTUnwrap(cache.find(key: AnyHashable("b"), routeCount: 0, invocations: 0, buffers: 0, twoThreads: false, hash: 1, start: [1])))
        cache.tick()
        XCTAssertEqual(cache.records.count, 2)
        cache.tick()
        XCTAssertEqual(cache.records.map(\.key), [AnyHashable("b")], "a: idle past the limit; b: replayed since")
        XCTAssertEqual(cache.wastedRecords[RunReplayCache.family(AnyHashable("a"))], 1)
        XCTAssertEqual(cache.bytes, cache.records[0].bytes)
        for _ in 0..<RunReplayCache.maxIdleRuns { cache.tick() }
        XCTAssertTrue(cache.records.isEmpty)
        XCTAssertEqual(cache.bytes, 0)
    }

    /// With a trace file at `summary` or `kernel` detail, a replay gives the recorder again the
    /// kernel spans and link-window adds the recorded run gave it, shifted: the file is the one
    /// simulating every run writes, byte for byte (with numerics, on one thread or two). The
    /// runs leave an invocation open on every core, which a run after them ends: its span starts
    /// where the last (replayed) run began it.
    func testReplaysWithATraceFileWriteTheSameBytes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("waferscope-replay-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (detail, numerics, threads) in [(TraceDetail.summary, false, 1), (.kernel, false, 1), (.kernel, true, 2)] {
            let a = dir.appendingPathComponent("simulated.wtrace").path, b = dir.appendingPathComponent("replayed.wtrace").path
            let (simulated, _) = try simulate(replays: false, threads: threads, numerics: numerics, keepsRecords: true, detail: detail, path: a, trailing: true)
            let (replayed, stats) = try simulate(replays: true, threads: threads, numerics: numerics, keepsRecords: true, detail: detail, path: b, trailing: true)
            let what = "\(detail), numerics \(numerics), \(threads) thread(s)"
            XCTAssertEqual(stats.replayedRuns, 4, what)
            XCTAssertEqual(replayed, simulated, what)
            // 36 cores, two kernels a run, 8 runs, and the one left open.
            let written = try Trace.read(path: b)
            XCTAssertEqual(written.spans.filter { $0.kind == .kernel }.count, 36 * (2 * 8 + 1), what)
            XCTAssertEqual(written.linkWindows != nil, detail == .kernel, what)
            let fileA = try Data(contentsOf: URL(fileURLWithPath: a)), fileB = try Data(contentsOf: URL(fileURLWithPath: b))
            XCTAssertGreaterThan(fileA.count, 0)
            XCTAssertEqual(fileA, fileB, what)
            // Runs whose window logs outgrow the limit are simulated; the file is the same.
            if detail == .kernel {
                let c = dir.appendingPathComponent("capped.wtrace").path
                let (capped, cappedStats) = try simulate(replays: true, threads: threads, numerics: numerics, keepsRecords: true, detail: detail,
                                                         path: c, trailing: true, tapeLimit: 1)
                XCTAssertEqual(cappedStats.replayedRuns, 0, what)
                XCTAssertEqual(capped, simulated, what)
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: c)), fileA, what)
            }
        }
    }

    /// Two lanes of a tape: each core's entries stay in its lane in order, and every copy whose
    /// snapshot is in the other lane waits for it.
    func testTapeLanesKeepEachCoresOrderAndCrossLaneWaits() {
        typealias E = NumericsPipeline.Entry
        let tape: [E] = [
            E(kind: .work, a: 0, b: 5, c: 0), E(kind: .snapshot, a: 0, b: 0, c: 7), E(kind: .work, a: 3, b: 6, c: 0),
            E(kind: .copy, a: 7, b: 2, c: 1), E(kind: .move, a: 7, b: 4, c: 3), E(kind: .consume, a: 4, b: 3, c: 1),
            E(kind: .consume, a: 2, b: 1, c: -1), E(kind: .copy, a: 9, b: 2, c: 2), E(kind: .consume, a: 2, b: 2, c: 0),
            // Message 8 stays in lane 1: its last copy takes the payload.
            E(kind: .snapshot, a: 2, b: 0, c: 8), E(kind: .copy, a: 8, b: 5, c: 3), E(kind: .move, a: 8, b: 6, c: 3),
            E(kind: .consume, a: 5, b: 3, c: 1), E(kind: .consume, a: 6, b: 3, c: 0),
        ]
        let lanes = TapeLanes(tape, coreCount: 4)
        XCTAssertEqual(lanes.lanes[0].map(\.kind), [.work, .snapshot, .copy, .store])
        // Message 7's copies are in both lanes: neither takes its payload.
        XCTAssertEqual(lanes.lanes[1].map(\.kind), [.work, .copy, .store, .copy, .store, .snapshot, .copy, .move, .store, .store])
        // Core 3's copy of message 7 (snapshot at lane 0, op 1) waits for it; core 1's does not.
        XCTAssertEqual(lanes.lanes[1][1].c, 1)
        XCTAssertEqual(lanes.lanes[0][2].c, -1)
        // A message with no snapshot (9) copies nothing; delivery slot 2, used twice, is two deliveries.
        XCTAssertEqual(lanes.lanes[1][3].a, -1)
        XCTAssertEqual(lanes.deliveries, 5)
        XCTAssertEqual(lanes.messages, 2)
    }
}
