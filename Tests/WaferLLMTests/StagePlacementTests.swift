import XCTest
@testable import WaferLLM
import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

final class StagePlacementTests: XCTestCase {
    /// A model split over two stage grids side by side gives the dense reference's logits, and the
    /// residual stream crosses between them as real messages.
    func testTwoStagesMatchTheReference() throws {
        let weights = try ModelWeights.random(config: tinyConfig, seed: 5)
        let spec = decoderSpec(7, 3)
        let rec = try TraceRecorder(spec: spec, detail: .full)
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: DecodeSlot.count(layers: tinyConfig.layerCount))
        let g = engine.geometry
        let grids = [try KernelGrid(geometry: g, x0: 0, y0: 0, rows: 3, cols: 3), try KernelGrid(geometry: g, x0: 3, y0: 0, rows: 3, cols: 4)]
        let decoder = try MeshDecoder(engine: engine, config: tinyConfig, weights: weights, stageGrids: grids,
                                      layers: [0..<1, 1..<2], policy: .shift)
        var reference = ReferenceModel(weights: weights)
        for (pos, t) in [4, 9, 16, 2, 33].enumerated() {
            let got = try XCTUnwrap(try decoder.step(token: t, phase: "decode"))
            let expected = reference.forward(token: t, position: pos)
            XCTAssertLessThan(zip(got, expected).map { abs($0 - $1) }.max()!, 1e-4, "position \(pos)")
        }
        engine.finishRecording()
        let trace = try rec.finish()
        let handOver = trace.messages.filter { $0.colour == 20 }
        XCTAssertEqual(handOver.count, 3 * 5, "one message per row per token")
        XCTAssertTrue(handOver.allSatisfy { $0.hops == 1 })
        XCTAssertEqual(trace.coreTotals.messagesSent[g.core(x: 6, y: 0)] > 0, true)
        XCTAssertGreaterThan(trace.kernels.filter { $0.name == "stage hand-over" }.count, 0)
    }

    /// Three stages in two bands: the hand-over into the second band runs from column i of row i
    /// straight to the same column below, and the logits still match the reference.
    func testStagesInTwoBandsMatchTheReference() throws {
        var config = tinyConfig
        config.layerCount = 3
        let weights = try ModelWeights.random(config: config, seed: 11)
        var spec = decoderSpec(6, 6)
        // Room for one layer (and the head) per 3x3 stage plus working buffers, not for two.
        let one = try StagePlanner.peakBytes(config: config, cols: 3, rows: 3, layers: 1, head: true, elementBytes: 2)
        spec.sramBytesPerCore = one + 600
        XCTAssertGreaterThan(try StagePlanner.peakBytes(config: config, cols: 3, rows: 3, layers: 2, head: false, elementBytes: 2),
                             spec.sramBytesPerCore)
        let plan = try StagePlanner.plan(config: config, spec: spec, stageWidth: 3, stageHeight: 3)
        XCTAssertEqual(plan.grids.map { [$0.x0, $0.y0] }, [[0, 0], [3, 0], [0, 3]], "row-major bands")
        XCTAssertEqual(plan.layers, [0..<1, 1..<2, 2..<3])
        let rec = try TraceRecorder(spec: spec, detail: .full)
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: DecodeSlot.count(layers: config.layerCount))
        let decoder = try MeshDecoder(engine: engine, config: config, weights: weights, stageGrids: plan.grids,
                                      layers: plan.layers, policy: .shift)
        var reference = ReferenceModel(weights: weights)
        for (pos, t) in [4, 9, 16, 2].enumerated() {
            let got = try XCTUnwrap(try decoder.step(token: t, phase: "decode"))
            let expected = reference.forward(token: t, position: pos)
            XCTAssertLessThan(zip(got, expected).map { abs($0 - $1) }.max()!, 1e-4, "position \(pos)")
        }
        engine.finishRecording()
        let trace = try rec.finish()
        XCTAssertTrue(trace.violations.isEmpty, "\(trace.violations.prefix(2))")
        // (2, i) → (3, i) is adjacent: 1 hop on colour 20. (3 + i, i) → (i, 3 + i) crosses into the
        // next band on its own colour 23: 3 west + 3 south.
        let adjacent = trace.messages.filter { $0.colour == 20 }, band = trace.messages.filter { $0.colour == 23 }
        XCTAssertEqual(adjacent.count, 3 * 4, "one message per row per token")
        XCTAssertTrue(adjacent.allSatisfy { $0.hops == 1 })
        XCTAssertEqual(band.count, 3 * 4)
        XCTAssertTrue(band.allSatisfy { $0.hops == 6 })
        XCTAssertGreaterThan(trace.messages.filter { $0.colour == 22 }.count, 0, "multicast west from the receiving column")
    }

    func testPlannerUsesMoreStagesWhenLayersDoNotFit() throws {
        var spec = decoderSpec(12, 3)
        spec.sramBytesPerCore = 3000
        let one = try StagePlanner.peakBytes(config: tinyConfig, cols: 3, rows: 3, layers: 2, head: true, elementBytes: 2)
        XCTAssertGreaterThan(one, 3000, "the whole model does not fit one 3x3 grid")
        let plan = try StagePlanner.plan(config: tinyConfig, spec: spec, stageWidth: 3, stageHeight: 3)
        XCTAssertEqual(plan.grids.count, 2)
        XCTAssertEqual(plan.layers, [0..<1, 1..<2])
        XCTAssertEqual(plan.grids[1].x0, 3)
        spec.sramBytesPerCore = 100
        XCTAssertThrowsError(try StagePlanner.plan(config: tinyConfig, spec: spec, stageWidth: 3, stageHeight: 3))
    }
}
