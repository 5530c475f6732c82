import Foundation
import XCTest
import WaferSpec
import WaferTrace
@testable import WaferMesh

/// Sharper checks of `RerunExchange`: `NumericsRerun.run` called directly, at every split, with a
/// plain thread as helper, on programs where one route carries several messages to a core (so a
/// reordering of one route's copies changes the bits) and every (core, colour) is fed by one
/// route (so one thread's rerun is a deterministic reference).
final class RerunLanesFuzzTests: XCTestCase {
    struct Fuzz: MeshProgram {
        /// Per core: its routes (each on a colour of its own).
        let out: [[Int32]]
        /// Per core: per round, the colours it receives on, in program order (one entry per copy).
        let recvs: [[[Int32]]]
        let messages: Int
        /// Breaks: an extra receive on `extraRecv`; a send on an undeclared route on `badSend`.
        var extraRecv = -1, badSend = -1

        var executesPerCore: Bool { true }
        var opsPerCore: Bool { true }

        func ops(_ core: Int) -> [MeshOp] {
            var ops: [MeshOp] = []
            for round in recvs[core].indices {
                for m in 0..<messages {
                    for r in out[core] {
                        ops.append(.compute(macs: 1, label: 0, work: Int32(1 + m)))
                        ops.append(.send(route: r, bytes: 4, buffer: 0))
                    }
                }
                if core == badSend && round == recvs[core].count / 2 { ops.append(.send(route: -7, bytes: 4, buffer: 0)) }
                for c in recvs[core][round] {
                    ops.append(.recv(colour: c, buffer: 1))
                    ops.append(.compute(macs: 1, label: 0, work: 0))
                }
            }
            if core == extraRecv { ops.append(.recv(colour: 0, buffer: 1)) }
            return ops
        }

        // (Per-core op lists built on demand: slow but pure, as `opsPerCore` asks.)
        func op(core: Int, pc: Int) -> MeshOp? {
            let o = ops(core)
            return pc < o.count ? o[pc] : nil
        }

        func execute(work: Int32, core: Int, store: PayloadStore) {
            let acc = store[core, 0].first ?? 0
            if work == 0 {
                let copy = store[core, 1]
                store[core, 0] = [acc * 0.5 + 1.25 * copy[0] - 0.0625 * copy[1]]
            } else {
                store[core, 0] = [acc * 0.75 + Float(core) * 0.01 + Float(work), acc]
            }
        }
    }

    func fuzz(trial: Int, side: Int) throws -> (Fuzz, MeshEngine) {
        var random = TestRandom(seed: 0xC0FFEE &+ UInt64(trial) &* 0x9E37_79B9_7F4A_7C15)
        let spec = try MeshSpec.wse2.subgrid(width: side, height: side)
        let e = try rerunEngine(spec, replays: false, threads: 1)
        let n = side * side
        var out = [[Int32]](repeating: [], count: n), into = [[Int32]](repeating: [], count: n)
        var colour = 0
        for source in 0..<n {
            for _ in 0..<(1 + random.next(2)) {
                while true {
                    let legs = random.legs(x: source % side, y: source / side, side: side, maxLegs: 3, alongOneIn: 2)
                    let r = try e.route(from: source, colour: colour, legs: legs)
                    let cores = NumericsRerun(routes: e.routes, coreCount: n, stepOffsets: e.stepOffset).deliveryCores(of: Int(r))
                    guard Set(cores).count == cores.count else { continue }
                    out[source].append(r)
                    for c in cores { into[Int(c)].append(Int32(colour)) }
                    colour += 1
                    break
                }
            }
        }
        let messages = 1 + random.next(3), rounds = 1 + random.next(3)
        var recvs = [[[Int32]]](repeating: [], count: n)
        for c in 0..<n {
            for _ in 0..<rounds {
                // Every copy of the round, in a random order (a route's copies in its order).
                var pending = into[c].map { ($0, messages) }, order: [Int32] = []
                while !pending.isEmpty {
                    let k = random.next(pending.count)
                    order.append(pending[k].0)
                    pending[k].1 -= 1
                    if pending[k].1 == 0 { pending.remove(at: k) }
                }
                recvs[c].append(order)
            }
        }
        return (Fuzz(out: out, recvs: recvs, messages: messages), e)
    }

    static func helper(_ body: @escaping @Sendable () -> Void) {
        let t = Thread { body() }
        t.start()
    }

    func accumulators(_ p: Fuzz, _ e: MeshEngine, side: Int, split: Int?) throws -> [UInt32] {
        let n = side * side
        let store = PayloadStore(coreCount: n, slotsPerCore: 2)
        for c in 0..<n { store[c, 0] = [Float(c) * 0.5, 1] }
        let rerun = NumericsRerun(routes: e.routes, coreCount: n, stepOffsets: e.stepOffset)
        if let split {
            let times = try rerun.run(p, store: store, split: split, helper: { Self.helper($0) })
            XCTAssertNotNil(times)
        } else {
            try rerun.run(p, store: store)
        }
        return (0..<n).flatMap { c in store[c, 0].map(\.bitPattern) }
    }

    func testEverySplitGivesOneThreadsBits() throws {
        let side = 4, n = side * side
        let trials = Int(ProcessInfo.processInfo.environment["RERUN_FUZZ_TRIALS"] ?? "") ?? 30
        for trial in 0..<trials {
            let (p, e) = try fuzz(trial: trial, side: side)
            let reference = try accumulators(p, e, side: side, split: nil)
            for split in 1..<n {
                XCTAssertEqual(try accumulators(p, e, side: side, split: split), reference, "trial \(trial), split \(split)")
            }
        }
    }

    func testBrokenProgramsEndInAnErrorAtEverySplit() throws {
        let side = 4, n = side * side
        for trial in 0..<6 {
            var (p, e) = try fuzz(trial: 100 + trial, side: side)
            for core in [0, n / 2, n - 1] {
                for kind in 0..<2 {
                    p.extraRecv = kind == 0 ? core : -1
                    p.badSend = kind == 1 ? core : -1
                    for split in 1..<n {
                        XCTAssertThrowsError(try accumulators(p, e, side: side, split: split), "trial \(trial) core \(core) kind \(kind) split \(split)") { error in
                            XCTAssertTrue("\(error)".contains(kind == 0 ? "deadlock" : "undeclared"), "\(error)")
                        }
                    }
                }
            }
        }
    }
}
