import XCTest
@testable import WaferLLM
import WaferKernels
import WaferMesh
import WaferModel
import WaferTrace

final class LayerProjectionTests: XCTestCase {
    /// `tinyConfig` with more layers, so that simulating a few of them leaves something to project.
    private var sixLayers: ModelConfig {
        var c = tinyConfig
        c.layerCount = 6
        return c
    }

    private func run(_ prefill: PrefillMode, simulated: Int?) throws -> MeshDecoder {
        let (d, _) = try makeDecoder(decoderSpec(4, 4), config: sixLayers, weights: nil, policy: .shift)
        d.simulatedLayers = simulated
        _ = try d.generate(prompt: Array(1...9), maxTokens: 3, eos: nil, prefill: prefill)
        return d
    }

    func testProjectionFromFewLayersMatchesTheFullRun() throws {
        for mode in [PrefillMode.meshgemm, .steps] {
            let full = try run(mode, simulated: nil)
            XCTAssertEqual(full.projectedCycles.prefill, full.prefillEndCycle, "all layers simulated: nothing projected")
            let steps = full.decodeStepEnds.count
            XCTAssertEqual(steps, 2, "3 tokens: the first from the prefill, two decode steps")
            XCTAssertEqual(full.layerCycles["decode"]?.layers, 6 * steps)
            for n in [1, 2] {
                let part = try run(mode, simulated: n)
                XCTAssertEqual(part.layerCycles["decode"]?.layers, n * steps)
                // MeshGEMM: one run per layer for the whole prompt; steps: one per layer and token.
                XCTAssertEqual(part.layerCycles["prefill"]?.layers, mode == .meshgemm ? n : n * 9)
                XCTAssertLessThan(part.prefillEndCycle, full.prefillEndCycle, "fewer layers ran")
                let p = part.projectedCycles, f = full.projectedCycles
                let prefillError = abs(Double(p.prefill - f.prefill)) / Double(f.prefill)
                let decodeError = abs(p.decodePerToken - f.decodePerToken) / f.decodePerToken
                XCTAssertLessThan(prefillError, 0.02, "\(mode) prefill from \(n) layers: \(p.prefill) vs \(f.prefill)")
                XCTAssertLessThan(decodeError, 0.02, "\(mode) decode from \(n) layers: \(p.decodePerToken) vs \(f.decodePerToken)")
            }
        }
    }

    /// On two stages the prompt normally pipelines through the stages; when layers are skipped it
    /// runs one token at a time, so the projection is an upper bound for the prefill and still
    /// close for decode.
    func testProjectionOverStagesBoundsThePipelinedPrefill() throws {
        func run(simulated: Int?) throws -> MeshDecoder {
            let spec = decoderSpec(8, 4)
            let rec = try TraceRecorder(spec: spec, detail: .summary)
            let engine = try MeshEngine(spec: spec, recorder: rec)
            let grids = try [0, 4].map { try KernelGrid(geometry: engine.geometry, x0: $0, y0: 0, rows: 4, cols: 4) }
            let d = try MeshDecoder(engine: engine, config: sixLayers, weights: nil, stageGrids: grids, layers: [0..<3, 3..<6])
            d.simulatedLayers = simulated
            _ = try d.generate(prompt: Array(1...6), maxTokens: 3, eos: nil, prefill: .steps)
            return d
        }
        let full = try run(simulated: nil), part = try run(simulated: 2)
        XCTAssertFalse(full.projectsUnpipelinedPrefill)
        XCTAssertTrue(part.projectsUnpipelinedPrefill)
        let p = part.projectedCycles, f = full.projectedCycles
        XCTAssertGreaterThanOrEqual(p.prefill, f.prefill, "un-pipelined prompt: an upper bound")
        XCTAssertLessThan(abs(p.decodePerToken - f.decodePerToken) / f.decodePerToken, 0.02)
    }
}
