import XCTest
@testable import WaferLLM
import WaferModel

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
                XCTAssertLessThan(part.prefillEndCycle, full.prefillEndCycle, "fewer layers ran")
                let p = part.projectedCycles, f = full.projectedCycles
                let prefillError = abs(Double(p.prefill - f.prefill)) / Double(f.prefill)
                let decodeError = abs(p.decodePerToken - f.decodePerToken) / f.decodePerToken
                XCTAssertLessThan(prefillError, 0.02, "\(mode) prefill from \(n) layers: \(p.prefill) vs \(f.prefill)")
                XCTAssertLessThan(decodeError, 0.02, "\(mode) decode from \(n) layers: \(p.decodePerToken) vs \(f.decodePerToken)")
            }
        }
    }
}
