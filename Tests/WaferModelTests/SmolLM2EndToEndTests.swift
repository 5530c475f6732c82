import Foundation
import XCTest
@testable import WaferModel

/// The real SmolLM2-135M-Instruct (Q4_1) file, parsed and loaded once for all tests.
enum RealModel {
    struct Loaded: Sendable {
        let file: GGUFFile
        let tokenizer: BPETokenizer
        let model: ReferenceModel
        let loadSeconds: Double
    }

    static let file: Result<GGUFFile, Error>? = {
        guard FileManager.default.fileExists(atPath: TestPaths.smolLM2.path) else { return nil }
        return Result { try GGUFFile(url: TestPaths.smolLM2) }
    }()

    static let loaded: Result<Loaded, Error>? = file.map { result in
        Result {
            let file = try result.get()
            let start = Date()
            let model = try ReferenceModel(gguf: file)
            return Loaded(file: file, tokenizer: try BPETokenizer(gguf: file), model: model,
                          loadSeconds: Date().timeIntervalSince(start))
        }
    }

    static func requireFile() throws -> GGUFFile {
        guard let file else { throw skipMessage }
        return try file.get()
    }

    static func requireLoaded() throws -> Loaded {
        guard let loaded else { throw skipMessage }
        return try loaded.get()
    }

    static var skipMessage: XCTSkip {
        XCTSkip("SmolLM2 GGUF not found at \(TestPaths.smolLM2.path); run `make model` (scripts/fetch-model.sh) to fetch it")
    }
}

final class SmolLM2EndToEndTests: XCTestCase {
    /// Token ids of the ChatML prompt, as produced by Hugging Face transformers.
    static let promptIDs = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
    /// Greedy continuation from transformers: "The capital of France is Paris.<|im_end|>".
    static let expectedContinuation = [504, 3575, 282, 4649, 314, 7042, 30, 2]

    func testConfigFromMetadata() throws {
        let config = try ModelConfig(gguf: try RealModel.requireFile())
        var expected = ModelConfig.smolLM2_135M
        expected.name = config.name
        XCTAssertEqual(config, expected)
        XCTAssertEqual(config.headDim, 64)
        XCTAssertEqual(config.groupSize, 3)
        XCTAssertEqual(config.parameterCount, 134_515_008)
    }

    func testChatPromptEncodesLikeTransformers() throws {
        let tokenizer = try BPETokenizer(gguf: try RealModel.requireFile())
        XCTAssertEqual(tokenizer.preTokenizer, .gpt2IsolatedDigits)
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        let prompt = ChatTemplate.userPrompt("What is the capital of France?")
        XCTAssertEqual(prompt, "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(tokenizer.encode(prompt), Self.promptIDs)
        XCTAssertEqual(tokenizer.decode(Self.promptIDs), prompt)
    }

    func testGreedyGenerationMatchesTransformers() throws {
        let loaded = try RealModel.requireLoaded()
        var model = loaded.model
        let start = Date()
        let generated = model.generate(prompt: Self.promptIDs, maxTokens: 20, stopAtEOS: true)
        let seconds = Date().timeIntervalSince(start)
        let tokens = Self.promptIDs.count + generated.count - 1
        print(String(format: "SmolLM2 reference: load %.2f s, %d forwards in %.2f s = %.2f tokens/s",
                     loaded.loadSeconds, tokens, seconds, Double(tokens) / seconds))
        XCTAssertEqual(generated, Self.expectedContinuation)
        XCTAssertEqual(loaded.tokenizer.decode(generated), "The capital of France is Paris.<|im_end|>")
    }

    func testPlainTextRoundTrips() throws {
        let tokenizer = try BPETokenizer(gguf: try RealModel.requireFile())
        let samples = [
            "Hello, world! It's 2024-11-22 and π ≈ 3.14159.",
            "  leading spaces,\ttabs\nand newlines\n\n  end  ",
            "Price: $1,234.56 (up 7%) — don't panic; we'll see.",
            "naïve café, 東京, emoji 🚀🔥, math ∑x²",
            "<|im_start|>system\nBe brief.<|im_end|>",
            "",
        ]
        for text in samples {
            let ids = tokenizer.encode(text)
            XCTAssertEqual(tokenizer.decode(ids), text, "round trip of \(text.debugDescription)")
        }
    }

    func testDigitsAreSplitOnePerToken() throws {
        let tokenizer = try BPETokenizer(gguf: try RealModel.requireFile())
        let ids = tokenizer.encode("in 2024")
        let pieces = ids.map { tokenizer.decode([$0]) }
        XCTAssertEqual(pieces, ["in", " ", "2", "0", "2", "4"])
        for digit in 0 ... 9 {
            XCTAssertEqual(tokenizer.encode("\(digit)"), [tokenizer.id(of: "\(digit)")!])
        }
    }

    func testSpecialTokensAreWholeTokens() throws {
        let tokenizer = try BPETokenizer(gguf: try RealModel.requireFile())
        XCTAssertEqual(tokenizer.encode("<|endoftext|><|im_start|><|im_end|>"), [0, 1, 2])
        XCTAssertTrue(tokenizer.isSpecial(1))
        XCTAssertFalse(tokenizer.isSpecial(504))
        // Without special parsing the same text is ordinary characters.
        XCTAssertGreaterThan(tokenizer.encode("<|im_start|>", parseSpecialTokens: false).count, 1)
    }

    func testKVCacheRewindReproducesLogits() throws {
        let loaded = try RealModel.requireLoaded()
        var model = loaded.model
        let prefix = Array(Self.promptIDs.prefix(4))
        guard let first = model.prefill(prefix) else { return XCTFail("no logits") }
        _ = model.forward(token: 100, position: 4)
        // Rewinding to position 3 and replaying the same token must give the same logits.
        let replay = model.forward(token: prefix[3], position: 3)
        XCTAssertEqual(model.cache.length, 4)
        XCTAssertEqual(replay, first)
    }
}
