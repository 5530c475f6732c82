import XCTest
@testable import WaferMesh
import WaferSpec
import WaferTrace

/// The fast paths of the engine against their plain definitions: the calendar queue against one
/// binary heap, running ahead (summary/kernel detail) against stepping op by op (full detail),
/// and arithmetic on two host threads against one.
final class EngineEquivalenceTests: XCTestCase {
    // MARK: - Event queue

    /// A reference: one binary heap on (time, key, slot).
    struct ReferenceHeap {
        var items: [(Int64, UInt64, Int32)] = []
        mutating func push(_ t: Int64, _ e: Event) { items.append((t, e.key, e.slot)) }
        mutating func pop() -> (Int64, UInt64, Int32)? {
            guard let i = items.indices.min(by: { items[$0] < items[$1] }) else { return nil }
            return items.remove(at: i)
        }
    }

    func testCalendarQueuePopsInGlobalHeapOrder() {
        var rng = SplitMix(seed: 7)
        var q = EventQueue()
        defer { q.free() }
        var ref = ReferenceHeap()
        var popped = 0, pushed = 0
        for round in 0..<3 {
            // A run starts at some cycle with a batch of core events (not in order).
            let t0 = Int64(round * 5000)
            q.start(at: t0)
            for c in (0..<40).shuffled(using: &rng) {
                let e = Event(key: EventKind.core.key(UInt64(c)), slot: Int32(c))
                let t = t0 + Int64(rng.next() % 3)
                q.push(time: t, e); ref.push(t, e)
            }
            while let e = q.pop() {
                let r = ref.pop()!
                XCTAssertEqual(q.now, r.0); XCTAssertEqual(e.key, r.1); XCTAssertEqual(e.slot, r.2)
                popped += 1
                guard pushed < 2_500 * (round + 1) else { continue }
                // Each event schedules 0–3 more: same cycle (any kind), near, or beyond the horizon.
                for _ in 0..<Int(rng.next() % 4) {
                    let kind = EventKind(rawValue: rng.next() % 4)!
                    let dt: Int64
                    switch rng.next() % 10 {
                    case 0: dt = 0
                    case 1: dt = Int64(EventQueue.horizon) + Int64(rng.next() % 5000)
                    case 2: dt = Int64(EventQueue.horizon - 1)
                    default: dt = Int64(1 + rng.next() % 40)
                    }
                    // Deliveries of one message share a key and differ by slot.
                    let id = rng.next() % 64
                    let e = Event(key: kind.key(id), slot: Int32(rng.next() % 1000))
                    q.push(time: q.now + dt, e); ref.push(q.now + dt, e)
                    pushed += 1
                }
            }
            XCTAssertNil(ref.pop())
        }
        XCTAssertGreaterThan(popped, 7_000)
    }

    // MARK: - Running ahead

    /// Random programs: every core issues its sends (unicast, multicast and relayed routes), then
    /// its receives, with compute, allocations, frees, waits and kernel marks in between.
    static func randomProgram(_ e: MeshEngine, seed: UInt64, rounds: Int) throws -> ScriptProgram {
        var rng = SplitMix(seed: seed)
        let g = e.geometry
        var sends: [Int: [MeshOp]] = [:], recvs: [Int: [MeshOp]] = [:]
        let inv = e.invocation(name: "random", params: ["seed": "\(seed)"])
        let label = e.label("work"), buffer = e.label("buffer")
        for _ in 0..<(rounds * g.coreCount) {
            let src = Int(rng.next() % UInt64(g.coreCount))
            let colour = Int(rng.next() % 4)
            let bytes = 1 + Int(rng.next() % 200)
            let x = g.x(of: src), y = g.y(of: src)
            var route: Int32
            var receivers: [Int]
            switch rng.next() % 4 {
            case 0 where x + 3 < g.width:   // multicast along a row
                route = try e.route(from: src, colour: colour, legs: [RouteLeg(.east, 3, deliverAlong: true)])
                receivers = (1...3).map { g.core(x: x + $0, y: y) }
            case 1 where x + 2 < g.width && y + 2 < g.height:   // relayed turn
                route = try e.route(from: src, colour: colour, legs: [RouteLeg(.east, 2, relayAtEnd: true), RouteLeg(.south, 2)])
                receivers = [g.core(x: x + 2, y: y + 2)]
            default:
                var dst = Int(rng.next() % UInt64(g.coreCount))
                if dst == src { dst = (dst + 1) % g.coreCount }
                route = try e.routeXY(from: src, to: dst, colour: colour)
                receivers = [dst]
            }
            sends[src, default: []].append(.send(route: route, bytes: bytes, buffer: -1))
            if rng.next() % 3 == 0 { sends[src, default: []].append(.compute(macs: Int(rng.next() % 300), label: label, work: -1)) }
            for r in receivers { recvs[r, default: []].append(.recv(colour: Int32(colour), buffer: -1)) }
        }
        var ops: [Int: [MeshOp]] = [:]
        for c in 0..<g.coreCount {
            var list: [MeshOp] = [.alloc(label: buffer, bytes: 64 + Int(rng.next() % 64)), .begin(invocation: inv)]
            list += sends[c] ?? []
            if rng.next() % 2 == 0 { list.append(.waitSends) }
            list.append(.compute(macs: Int(rng.next() % 1000), label: label, work: -1))
            list.append(.nop)
            list += recvs[c] ?? []
            list += [.end(invocation: inv), .free(label: buffer)]
            ops[c] = list
        }
        return ScriptProgram(ops)
    }

    func testRunningAheadGivesTheTotalsOfSteppingOpByOp() throws {
        var overheadSpec = try MeshSpec.wse2.subgrid(width: 9, height: 7)
        overheadSpec.relayLatencyCycles = 5
        try assertDetailsAgree(specs: [overheadSpec, MeshSpec.tiny], seeds: 1...4) { try Self.randomProgram($0, seed: $1, rounds: 3) }
        // Running ahead does skip events (so the comparison above is not vacuous).
        var coreEvents: [Int64] = []
        for detail in [TraceDetail.full, .summary] {
            let rec = try TraceRecorder(spec: overheadSpec, detail: detail)
            let e = try MeshEngine(spec: overheadSpec, recorder: rec)
            try e.run(try Self.randomProgram(e, seed: 9, rounds: 3))
            coreEvents.append(e.stats.coreEvents)
        }
        XCTAssertLessThan(coreEvents[1], coreEvents[0])
    }

    /// Link totals are kept in 32-bit counters with carries: 6 GB over one link stays exact.
    func testLinkTotalsStayExactPast32Bits() throws {
        let bytes = 2_000_000_000
        for detail in [TraceDetail.full, .summary] {
            let trace = try simulate(detail: detail) { e in
                let r = try e.routeXY(from: core(0, 0), to: core(1, 0), colour: 0)
                let send = MeshOp.send(route: r, bytes: bytes, buffer: -1), recv = MeshOp.recv(colour: 0, buffer: -1)
                return ScriptProgram([core(0, 0): [send, send, send], core(1, 0): [recv, recv, recv]])
            }
            let link = MeshGeometry.tiny.link(from: core(0, 0), .east)
            XCTAssertEqual(trace.linkTotals.bytes[link], 3 * Int64(bytes))
            XCTAssertEqual(trace.linkTotals.busyCycles[link], 3 * Int64(bytes / 4))
            XCTAssertEqual(trace.summary.hopEvents, 3)
        }
    }

    // MARK: - Two host threads

    /// Cores pass a vector round their row; every step mixes it into the core's own buffer.
    struct RowMixer: MeshProgram {
        let routes: [Int32]
        let steps: Int
        let label: Int32

        init(_ e: MeshEngine, steps: Int) throws {
            let g = e.geometry
            routes = try (0..<g.coreCount).map { c in
                try e.routeXY(from: c, to: g.core(x: (g.x(of: c) + 1) % g.width, y: g.y(of: c)), colour: 0)
            }
            self.steps = steps
            label = e.label("mix")
        }

        var executesPerCore: Bool { true }

        func op(core: Int, pc: Int) -> MeshOp? {
            guard pc < 3 * steps else { return nil }
            switch pc % 3 {
            case 0: return .compute(macs: 40, label: label, work: Int32(pc / 3))
            case 1: return .send(route: routes[core], bytes: 64, buffer: 0)
            default: return .recv(colour: 0, buffer: 1)
            }
        }

        func execute(work: Int32, core: Int, store: PayloadStore) {
            let incoming = store[core, 1]
            if store[core, 0].isEmpty { store[core, 0] = (0..<16).map { Float(core * 16 + $0) * 0.001 } }
            for i in 0..<16 {
                let v = i < incoming.count ? incoming[i] : 0
                store[core, 0][i] = (store[core, 0][i] * 0.75 + v.squareRoot() * 0.5 + Float(work)).truncatingRemainder(dividingBy: 97)
            }
        }
    }

    /// Bit-identical arithmetic, and the same timings, with the arithmetic on a second thread.
    func testArithmeticOnTwoThreadsIsBitIdentical() throws {
        let spec = try MeshSpec.wse2.subgrid(width: 24, height: 16)
        var results: [[[Float]]] = []
        var traces: [Trace] = []
        for (threads, detail) in [(1, TraceDetail.full), (2, .summary), (2, .full), (1, .summary)] {
            let rec = try TraceRecorder(spec: spec, detail: detail)
            let e = try MeshEngine(spec: spec, recorder: rec, payloadSlots: 2)
            e.numericsThreads = threads
            try e.run(try RowMixer(e, steps: 12))
            if threads == 2 { XCTAssertGreaterThan(e.stats.numericsWorks, 0, "the arithmetic ran on the second thread") }
            let store = try XCTUnwrap(e.store)
            results.append((0..<spec.coreCount).map { store[$0, 0] })
            e.finishRecording()
            traces.append(try rec.finish())
        }
        for r in results.dropFirst() {
            XCTAssertTrue(zip(r, results[0]).allSatisfy { a, b in a.map(\.bitPattern) == b.map(\.bitPattern) })
        }
        for t in traces.dropFirst() {
            XCTAssertEqual(t.summary, traces[0].summary)
            XCTAssertEqual(t.coreTotals, traces[0].coreTotals)
            XCTAssertEqual(t.linkTotals, traces[0].linkTotals)
        }
    }
}

/// A small deterministic generator for the tests (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
