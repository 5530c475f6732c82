import Foundation
import XCTest
@testable import WaferModel

/// Hand-made and metadata-derived model configurations.
final class ModelConfigTests: XCTestCase {
    func testPresetsAndDerivedSizes() {
        let llama3 = ModelConfig.llama3_8B
        XCTAssertNil(llama3.validationProblem)
        XCTAssertEqual(llama3.headDim, 128)
        XCTAssertEqual(llama3.kvDim, 1024)
        XCTAssertEqual(llama3.groupSize, 4)
        XCTAssertEqual(llama3.parameterCount, 8_030_261_248)   // Meta's published count
        let llama2 = ModelConfig.llama2_13B
        XCTAssertEqual(llama2.parameterCount, 13_015_864_320)
        XCTAssertEqual(llama2.groupSize, 1)
        let smol = ModelConfig.smolLM2_135M
        XCTAssertEqual(smol.queryDim, 576)
        XCTAssertEqual(smol.kvCacheFloatsPerToken, 2 * 30 * 192)
        XCTAssertEqual(smol.macsPerToken(context: 0), smol.parameterCount - 30 * 2 * 576 - 576)
        XCTAssertTrue(smol.description.contains("heads=9/3"))
    }

    func testCodableRoundTrip() throws {
        let data = try JSONEncoder().encode(ModelConfig.llama3_8B)
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: data), .llama3_8B)
    }

    func testValidation() {
        var c = ModelConfig.smolLM2_135M
        c.kvHeadCount = 4
        XCTAssertNotNil(c.validationProblem)
        c = .smolLM2_135M
        c.headDim = 63
        XCTAssertNotNil(c.validationProblem)
        c = .smolLM2_135M
        c.layerCount = 0
        XCTAssertNotNil(c.validationProblem)
        XCTAssertThrowsError(try ModelWeights.random(config: c, seed: 1)) {
            guard case .unsupportedModel? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
    }

    func testMetadataErrors() throws {
        var w = GGUFTestWriter()
        w.add("general.architecture", .string("llama"))
        w.add("llama.embedding_length", .u32(16))
        XCTAssertThrowsError(try ModelConfig(gguf: try GGUFFile(data: w.data))) {
            XCTAssertEqual($0 as? GGUFError, .missingKey("llama.attention.head_count"))
        }
        w = GGUFTestWriter()
        w.add("general.architecture", .string("gpt2"))
        XCTAssertThrowsError(try ModelConfig(gguf: try GGUFFile(data: w.data))) {
            guard case .unsupportedModel? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
        w = GGUFTestWriter()
        w.add("general.architecture", .string("llama"))
        w.add("llama.embedding_length", .string("576"))
        XCTAssertThrowsError(try ModelConfig(gguf: try GGUFFile(data: w.data))) {
            XCTAssertEqual($0 as? GGUFError, .typeMismatch(key: "llama.embedding_length", expected: "integer", found: "string"))
        }
    }
}
