import XCTest
@testable import WaferLLM
import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

/// A small LLaMA with GQA (4 query heads over 2 KV heads) that tests can run on odd grids.
let tinyConfig = ModelConfig(name: "tiny", embeddingLength: 32, layerCount: 2, headCount: 4, kvHeadCount: 2,
                             headDim: 8, feedForwardLength: 48, vocabularySize: 50, contextLength: 64)

func decoderSpec(_ w: Int, _ h: Int) -> MeshSpec {
    var s = MeshSpec.small
    s.width = w
    s.height = h
    s.name = "llm test \(w)x\(h)"
    return s
}

func makeDecoder(_ spec: MeshSpec, config: ModelConfig, weights: ModelWeights?, policy: KVPolicy,
                 detail: TraceDetail = .summary, keepsRecords: Bool = true) throws -> (MeshDecoder, TraceRecorder) {
    let rec = try TraceRecorder(spec: spec, detail: detail, keepsRecords: keepsRecords)
    let engine = try MeshEngine(spec: spec, recorder: rec,
                                payloadSlots: weights == nil ? nil : DecodeSlot.count(layers: config.layerCount))
    let grid = try KernelGrid(geometry: engine.geometry)
    return (try MeshDecoder(engine: engine, config: config, weights: weights, grid: grid, policy: policy), rec)
}

final class MeshDecoderTests: XCTestCase {
    func testLogitsMatchTheDenseReferenceStepByStep() throws {
        let weights = try ModelWeights.random(config: tinyConfig, seed: 42)
        for (w, h) in [(3, 4), (4, 4), (1, 5), (5, 2)] {
            for policy in KVPolicy.allCases {
                var reference = ReferenceModel(weights: weights)
                let (decoder, _) = try makeDecoder(decoderSpec(w, h), config: tinyConfig, weights: weights, policy: policy)
                for (pos, token) in [3, 17, 42, 8, 8, 29, 1].enumerated() {
                    let expected = reference.forward(token: token, position: pos)
                    let got = try XCTUnwrap(try decoder.step(token: token, phase: "decode"))
                    XCTAssertEqual(got.count, expected.count)
                    let err = zip(got, expected).map { abs($0 - $1) }.max()!
                    XCTAssertLessThan(err, 1e-4, "\(w)x\(h) \(policy) position \(pos)")
                    XCTAssertEqual(ReferenceModel.argmax(got), ReferenceModel.argmax(expected))
                }
            }
        }
    }

    func testShiftPolicySpreadsTheCacheOverAllRows() {
        var shift = KVCachePlacement(rows: 4, policy: .shift)
        var concat = KVCachePlacement(rows: 4, policy: .concat)
        for p in 0..<10 { _ = shift.append(p); _ = concat.append(p) }
        XCTAssertEqual(shift.counts.max()! - shift.counts.min()!, 1)
        XCTAssertEqual(shift.tokens.flatMap { $0 }, Array(0..<10), "contiguous and in order")
        XCTAssertEqual(concat.counts, [0, 0, 0, 10])
    }

    func testTimingOnlyGivesIdenticalTimings() throws {
        let weights = try ModelWeights.random(config: tinyConfig, seed: 7)
        var makespans: [Int64] = []
        var summaries: [RunSummary] = []
        for numerics in [true, false] {
            let (decoder, rec) = try makeDecoder(decoderSpec(4, 3), config: tinyConfig, weights: numerics ? weights : nil, policy: .shift)
            for t in [1, 2, 3, 4, 5] { try decoder.step(token: t, phase: "decode") }
            decoder.engine.finishRecording()
            let trace = try rec.finish()
            makespans.append(trace.summary.makespanCycles)
            summaries.append(trace.summary)
        }
        XCTAssertEqual(makespans[0], makespans[1])
        XCTAssertEqual(summaries[0], summaries[1])
    }

    func testShiftMovesEntriesOneHopNorthAndConcatFillsTheLastRow() throws {
        let spec = decoderSpec(2, 4)
        let (shift, shiftRec) = try makeDecoder(spec, config: tinyConfig, weights: nil, policy: .shift, detail: .full)
        let (concat, concatRec) = try makeDecoder(spec, config: tinyConfig, weights: nil, policy: .concat, detail: .full)
        for t in 0..<8 {
            try shift.step(token: t, phase: "decode")
            try concat.step(token: t, phase: "decode")
        }
        shift.engine.finishRecording()
        concat.engine.finishRecording()
        let s = try shiftRec.finish(), c = try concatRec.finish()
        let g = MeshGeometry(spec)
        // KV memory: balanced under shift, all on the last row under concat.
        let lastRow = (0..<2).map { g.core(x: $0, y: 3) }, firstRow = (0..<2).map { g.core(x: $0, y: 0) }
        let entry = Int32(2 * tinyConfig.layerCount * 8 * 2)   // K and V, 2 layers, 8 kv dims per column, FP16
        XCTAssertEqual(c.coreTotals.peakSramBytes[lastRow[0]] - c.coreTotals.peakSramBytes[firstRow[0]], 8 * entry)
        XCTAssertLessThanOrEqual(s.coreTotals.peakSramBytes[lastRow[0]] - s.coreTotals.peakSramBytes[firstRow[0]], entry,
                                 "balanced but for the entry the last row holds before it shifts")
        // Shift messages: colours 18/19, exactly one hop north.
        let shiftMessages = s.messages.filter { $0.colour >= 18 }
        XCTAssertFalse(shiftMessages.isEmpty)
        XCTAssertTrue(shiftMessages.allSatisfy { $0.hops == 1 && g.y(of: Int($0.destination)) == g.y(of: Int($0.source)) - 1 })
        XCTAssertTrue(c.messages.allSatisfy { $0.colour < 18 })
    }
}
