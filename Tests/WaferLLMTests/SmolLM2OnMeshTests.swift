import Foundation
import XCTest
@testable import WaferLLM
import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

/// The real SmolLM2-135M-Instruct on the mesh against the dense reference.
final class SmolLM2OnMeshTests: XCTestCase {
    static var modelPath: String {
        if let p = ProcessInfo.processInfo.environment["WAFERSCOPE_MODEL"], !p.isEmpty { return p }
        return URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(ModelLocations.smolLM2RelativePath).path
    }

    /// The model, its tokenizer and the chat prompt's tokens (skips when the file is missing).
    static func loadModel() throws -> (ModelConfig, ModelWeights, BPETokenizer, [Int]) {
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw XCTSkip("SmolLM2 GGUF not found at \(modelPath); run `make model`")
        }
        let file = try GGUFFile(path: modelPath)
        let config = try ModelConfig(gguf: file)
        let weights = try ModelWeights(gguf: file, config: config)
        let tokenizer = try BPETokenizer(gguf: file)
        return (config, weights, tokenizer, tokenizer.encode(ChatTemplate.userPrompt("What is the capital of France?")))
    }

    /// 8×8 WSE-2 cores with SRAM raised to 8 MB, so the whole model fits 64 cores.
    static func roomySpec() throws -> MeshSpec {
        var spec = try MeshSpec.wse2.subgrid(width: 8, height: 8)
        spec.sramBytesPerCore = 8 << 20
        return spec
    }

    /// Greedy generation on an 8×8 grid (WSE-2 cores, SRAM raised to 8 MB so the whole model fits
    /// 64 cores — a what-if spec that keeps this test fast) gives the transformers ground truth,
    /// and the first decode logits match the dense reference.
    func testChatAnswerMatchesTheGroundTruthAndTheReference() throws {
        let (config, weights, tokenizer, prompt) = try Self.loadModel()
        XCTAssertEqual(prompt, [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198])

        let spec = try Self.roomySpec()
        let rec = try TraceRecorder(spec: spec, detail: .summary)
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: DecodeSlot.count(layers: config.layerCount))
        let decoder = try MeshDecoder(engine: engine, config: config, weights: weights,
                                      grid: try KernelGrid(geometry: engine.geometry), policy: .shift)
        var reference = ReferenceModel(weights: weights)
        var meshLogits: [Float]?
        var worst: Float = 0
        for (pos, t) in prompt.enumerated() {
            meshLogits = try decoder.step(token: t, phase: "prefill")
            let ref = reference.forward(token: t, position: pos)
            worst = max(worst, zip(meshLogits!, ref).map { abs($0 - $1) }.max()!)
        }
        var generated: [Int] = []
        while generated.count < 8 {
            let next = try XCTUnwrap(ReferenceModel.argmax(try XCTUnwrap(meshLogits)))
            generated.append(next)
            if next == tokenizer.eosTokenID || generated.count == 8 { break }
            meshLogits = try decoder.step(token: next, phase: "decode")
            let ref = reference.forward(token: next, position: prompt.count + generated.count - 1)
            worst = max(worst, zip(meshLogits!, ref).map { abs($0 - $1) }.max()!)
        }
        XCTAssertEqual(generated, [504, 3575, 282, 4649, 314, 7042, 30, 2])
        XCTAssertEqual(tokenizer.decode(generated), "The capital of France is Paris.<|im_end|>")
        // Stated tolerance: logits within 1e-3 of the dense reference (Float32, different summation order).
        XCTAssertLessThan(worst, 1e-3, "largest |logit difference| over all steps")
        print("SmolLM2 on an 8x8 mesh: largest |logit difference| vs dense reference = \(worst)")
        engine.finishRecording()
        let trace = try rec.finish()
        XCTAssertTrue(trace.violations.isEmpty)
    }
    /// The same answer when the prompt runs all at once with MeshGEMM (WaferLLM's prefill): the
    /// first token's logits match the reference after the whole prompt, and decode continues from
    /// the K/V cache the prefill wrote.
    func testMeshGEMMPrefillGivesTheGroundTruth() throws {
        let (config, weights, tokenizer, prompt) = try Self.loadModel()
        let spec = try Self.roomySpec()
        let rec = try TraceRecorder(spec: spec, detail: .summary)
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: MeshDecoder.payloadSlots(layers: config.layerCount))
        let decoder = try MeshDecoder(engine: engine, config: config, weights: weights,
                                      grid: try KernelGrid(geometry: engine.geometry), policy: .shift)
        var reference = ReferenceModel(weights: weights)
        var ref: [Float] = []
        for (pos, t) in prompt.enumerated() { ref = reference.forward(token: t, position: pos) }
        var logits = try XCTUnwrap(try decoder.prefill(prompt: prompt))
        var worst = zip(logits, ref).map { abs($0 - $1) }.max()!
        var generated: [Int] = []
        while true {
            let next = try XCTUnwrap(ReferenceModel.argmax(logits))
            generated.append(next)
            if next == tokenizer.eosTokenID || generated.count == 8 { break }
            logits = try XCTUnwrap(try decoder.step(token: next, phase: "decode"))
            ref = reference.forward(token: next, position: prompt.count + generated.count - 1)
            worst = max(worst, zip(logits, ref).map { abs($0 - $1) }.max()!)
        }
        XCTAssertEqual(generated, [504, 3575, 282, 4649, 314, 7042, 30, 2])
        XCTAssertLessThan(worst, 1e-3, "largest |logit difference| after a MeshGEMM prefill")
        print("SmolLM2 MeshGEMM prefill on an 8x8 mesh: largest |logit difference| vs dense reference = \(worst)")
        engine.finishRecording()
        XCTAssertTrue(try rec.finish().violations.isEmpty)
    }
}
