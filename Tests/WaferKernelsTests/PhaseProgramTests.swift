import XCTest
@testable import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

/// `PhaseProgram`'s two ways of giving a local phase's op counts (closures, `GridOps` data) and
/// its dispatch cursor: the same program must give the same trace and the same numbers either way.
final class PhaseProgramTests: XCTestCase {
    /// A grid that does not cover the mesh (cores outside it issue nothing), two local phases, an
    /// allreduce along Y with a length per line and a max-allreduce along X.
    private func run(gridOps: Bool) throws -> (Trace, [[Float]]) {
        let spec = testSpec(7, 6)
        let rec = try TraceRecorder(spec: spec, detail: .full)
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: 4, policy: .abort)
        let grid = try KernelGrid(geometry: engine.geometry, x0: 1, y0: 1, rows: 4, cols: 5)
        let slots: (acc: Int32, incoming: Int32, staging: Int32) = (0, 1, 2)
        let y = try LinePlanHandle(engine: engine, grid: grid, axis: .y, groups: 2, colourBase: 0, slots: slots, label: "y")
        let x = try LinePlanHandle(engine: engine, grid: grid, axis: .x, colourBase: 9, slots: slots, label: "x")
        let inv = engine.invocation(name: "phases", params: [:])
        let label = engine.label("local")
        let lengths = [3, 1, 4, 2, 5]   // per column: what the Y allreduce carries
        let rowTerm = [2, 0, 7, 1], rowScale = [1, 3, 0, 2], colTerm = [0, 4, 1, 0, 9], colScale = [5, 0, 2, 1, 3]
        @Sendable func fill(_ c: Int, _ i: Int, _ j: Int, _ s: PayloadStore) {
            s[c, 0] = (0..<lengths[j]).map { Float(i * 10 + j) + Float($0) * 0.25 }
        }
        @Sendable func scale(_ c: Int, _ i: Int, _ j: Int, _ s: PayloadStore) {
            s[c, 0] = s[c, 0].map { $0 * Float(i + 1) - Float(j) }
        }
        var phases: [PhaseProgram.Phase] = [.begin(inv)]
        if gridOps {
            let ops = GridOps(rows: 4, cols: 5, row: rowTerm, column: colTerm, rowScale: rowScale, columnScale: colScale)
            phases.append(.grid(label: label, ops: ops, work: { c, i, j, s in fill(c, i, j, s) }))
            phases.append(.collective(y.carrying(perLine: lengths)))
            phases.append(.grid(label: label, ops: GridOps(rows: 4, cols: 5, row: rowTerm), work: { c, i, j, s in scale(c, i, j, s) }))
        } else {
            @Sendable func place(_ c: Int) -> (Int, Int) { let o = grid.offsets(of: c)!; return (o.py, o.px) }
            phases.append(.local(label: label, ops: { c in
                let (i, j) = place(c)
                return rowTerm[i] + colTerm[j] + rowScale[i] * colScale[j]
            }, work: { c, s in let (i, j) = place(c); fill(c, i, j, s) }))
            phases.append(.collective(y.carrying(perLine: lengths)))
            phases.append(.local(label: label, ops: { c in rowTerm[place(c).0] },
                                 work: { c, s in let (i, j) = place(c); scale(c, i, j, s) }))
        }
        phases.append(.collective(x.carrying(1).reducing(.max)))
        phases.append(.end(inv))
        try engine.run(PhaseProgram(grid: grid, collectiveSlots: slots, phases: phases))
        engine.finishRecording()
        let store = engine.store!
        let acc = (0..<engine.geometry.coreCount).map { store[$0, 0] }
        return (try rec.finish(), acc)
    }

    func testGridOpsGiveTheSameTraceAndNumbersAsClosures() throws {
        let (a, accA) = try run(gridOps: false)
        let (b, accB) = try run(gridOps: true)
        XCTAssertEqual(a.summary.makespanCycles, b.summary.makespanCycles)
        XCTAssertEqual(a.spans, b.spans)
        XCTAssertEqual(a.messages.count, b.messages.count)
        XCTAssertEqual(accA.map { $0.map(\.bitPattern) }, accB.map { $0.map(\.bitPattern) })
        XCTAssertTrue(a.spans.contains { $0.kind == .compute && $0.macs == 2 + 0 + 1 * 5 }, "row 0, column 0's first phase")
    }

    func testGridOpsCount() {
        let ops = GridOps(rows: 2, cols: 3, row: [1, 2], column: [10, 20, 30], rowScale: [0, 3], columnScale: [5, 6, 7])
        XCTAssertEqual(ops.count(row: 0, column: 2), 31)
        XCTAssertEqual(ops.count(row: 1, column: 1), 2 + 20 + 18)
        XCTAssertEqual(GridOps(rows: 2, cols: 2).count(row: 1, column: 1), 0)
    }

    /// A `.grid` phase's declared buffers are what a replay prefetches for its work; a collective's
    /// works prefetch its accumulator and incoming slots; a `.local` phase's nothing. Prefetching
    /// every work on every core, at every stage, changes no buffer.
    func testPrefetchHintsTheDeclaredBuffersAndChangesNothing() throws {
        let spec = testSpec(4, 3)
        let rec = try TraceRecorder(spec: spec, detail: .summary)
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: 6, policy: .abort)
        let grid = try KernelGrid(geometry: engine.geometry)
        let slots: (acc: Int32, incoming: Int32, staging: Int32) = (0, 1, 2)
        let y = try LinePlanHandle(engine: engine, grid: grid, axis: .y, colourBase: 0, slots: slots, label: "y")
        let label = engine.label("local")
        let program = PhaseProgram(grid: grid, collectiveSlots: slots, phases: [
            .grid(label: label, ops: GridOps(rows: 3, cols: 4, row: [1, 1, 1]), work: { c, _, _, s in s[c, 0] = [Float(c)] },
                  buffers: [5, 0, 3]),
            .local(label: label, ops: { _ in 1 }, work: { c, s in s[c, 4] = [1] }),
            .collective(y.carrying(1)),
        ])
        try engine.run(program)
        XCTAssertEqual(program.prefetchSlots(work: 0), [5, 0, 3])
        XCTAssertEqual(program.prefetchSlots(work: 1), [])
        XCTAssertEqual(program.prefetchSlots(work: 7), [])
        XCTAssertEqual(program.prefetchSlots(work: -1), [])
        let store = engine.store!
        let before = store.buffers
        var collectiveWorks = 0
        for c in 0..<spec.coreCount {
            for pc in 0..<64 {
                guard let op = program.op(core: c, pc: pc) else { break }
                guard case .compute(_, _, let work) = op, work >= 0 else { continue }
                if LineWork.isCollective(work) {
                    collectiveWorks += 1
                    XCTAssertEqual(program.prefetchSlots(work: work), [slots.acc, slots.incoming])
                }
                for stage in [PrefetchStage.reference, .header, .elements] { program.prefetch(work: work, core: c, store: store, stage: stage) }
            }
        }
        XCTAssertGreaterThan(collectiveWorks, 0)
        XCTAssertEqual(store.buffers, before)
    }
}
