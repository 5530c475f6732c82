import Foundation
import XCTest
@testable import WaferModel

/// Byte-level mapping, pre-tokenizer splits and BPE merging on a tiny hand-made vocabulary.
final class BPETokenizerTests: XCTestCase {
    static let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    static let merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "Ġ Ġ"]

    /// Special tokens, then all 256 byte symbols, then the merge results.
    static let tokens: [String] = specials
        + ByteLevelEncoding.byteToScalar.map { String($0) }
        + ["he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld", "ĠĠ"]

    static func tiny(_ pre: PreTokenizer = .gpt2IsolatedDigits) throws -> BPETokenizer {
        try BPETokenizer(tokens: tokens, merges: merges, specialTokenIDs: [0, 1, 2],
                         bosTokenID: 1, eosTokenID: 2, preTokenizer: pre)
    }

    // MARK: Byte-level mapping

    func testByteLevelMapping() {
        let table = ByteLevelEncoding.byteToScalar
        XCTAssertEqual(Set(table.map(\.value)).count, 256)
        XCTAssertEqual(table[32], "\u{0120}")   // space → Ġ
        XCTAssertEqual(table[10], "\u{010A}")   // newline → Ċ
        XCTAssertEqual(table[0], "\u{0100}")
        XCTAssertEqual(table[Int(UInt8(ascii: "A"))], "A")
        XCTAssertEqual(table[0xFF], "ÿ")
        let all = (0 ... 255).map { UInt8($0) }
        XCTAssertEqual(ByteLevelEncoding.decode(ByteLevelEncoding.encode(all)), all)
    }

    // MARK: Pre-tokenizer

    func split(_ text: String, _ pre: PreTokenizer = .gpt2) -> [String] { pre.split(text) }

    func testGPT2Split() {
        XCTAssertEqual(split("Hello world"), ["Hello", " world"])
        XCTAssertEqual(split("I'm here, they'll go"), ["I", "'m", " here", ",", " they", "'ll", " go"])
        XCTAssertEqual(split("don't 'S"), ["don", "'t", " '", "S"])
        XCTAssertEqual(split("a  b"), ["a", " ", " b"])
        XCTAssertEqual(split("a\n\nb"), ["a", "\n", "\n", "b"])
        XCTAssertEqual(split("a\n\n b"), ["a", "\n\n", " b"])
        XCTAssertEqual(split("x  "), ["x", "  "])
        XCTAssertEqual(split("Hi!!! ?"), ["Hi", "!!!", " ?"])
        XCTAssertEqual(split("abc123def 42"), ["abc", "123", "def", " 42"])
        XCTAssertEqual(split("naïve café 東京タワー"), ["naïve", " café", " 東京タワー"])
        XCTAssertEqual(split("🚀🔥 ok"), ["🚀🔥", " ok"])
        XCTAssertEqual(split("\t\tx"), ["\t", "\t", "x"])
        XCTAssertEqual(split(""), [])
    }

    func testIsolatedDigitsSplit() {
        let pre = PreTokenizer.gpt2IsolatedDigits
        XCTAssertEqual(split("abc123def", pre), ["abc", "1", "2", "3", "def"])
        XCTAssertEqual(split("in 2024.", pre), ["in", " ", "2", "0", "2", "4", "."])
        XCTAssertEqual(split("x²", pre), ["x", "²"])        // ² is \p{N} (No)
        XCTAssertEqual(split("٣ apples", pre), ["٣", " apples"])
        XCTAssertEqual(try PreTokenizer(ggufName: "smollm"), .gpt2IsolatedDigits)
        XCTAssertEqual(try PreTokenizer(ggufName: "gpt2"), .gpt2)
        XCTAssertThrowsError(try PreTokenizer(ggufName: "llama3")) {
            guard case .unsupportedModel? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
    }

    func testSplitIsLossless() {
        var rng = SplitMix64(seed: 11)
        let alphabet = Array("ab Z9'\n\t .,!é東🚀'sll  ")
        for _ in 0 ..< 300 {
            let text = String((0 ..< Int(rng.next() % 24)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            for pre in PreTokenizer.allCases {
                let pieces = pre.split(text)
                XCTAssertEqual(pieces.joined(), text)
                XCTAssertFalse(pieces.contains(""))
            }
        }
    }

    // MARK: BPE

    func testMergesProduceWholeWords() throws {
        let t = try Self.tiny()
        XCTAssertEqual(t.encode("hello world"), [t.id(of: "hello")!, t.id(of: "Ġworld")!])
        XCTAssertEqual(t.decode(t.encode("hello world")), "hello world")
        XCTAssertEqual(t.encode("hell"), [t.id(of: "hell")!])
        XCTAssertEqual(t.encode("held").map { t.token(for: $0)! }, ["he", "ld"])
    }

    func testMergeRankDecidesOrder() throws {
        let tokens = ["a", "b", "c", "ab", "bc"]
        let bcFirst = try BPETokenizer(tokens: tokens, merges: ["b c", "a b"])
        XCTAssertEqual(bcFirst.bpe(Array("abc".utf8)), [0, 4])
        let abFirst = try BPETokenizer(tokens: tokens, merges: ["a b", "b c"])
        XCTAssertEqual(abFirst.bpe(Array("abc".utf8)), [3, 2])
        // Overlapping occurrences merge left to right.
        let aa = try BPETokenizer(tokens: ["a", "aa"], merges: ["a a"])
        XCTAssertEqual(aa.bpe(Array("aaa".utf8)), [1, 0])
        XCTAssertEqual(aa.bpe(Array("aaaa".utf8)), [1, 1])
        // A rule whose result is not in the vocabulary never applies.
        let missing = try BPETokenizer(tokens: ["a", "b"], merges: ["a b"])
        XCTAssertEqual(missing.bpe(Array("ab".utf8)), [0, 1])
        XCTAssertThrowsError(try BPETokenizer(tokens: tokens, merges: ["ab"]))
    }

    func testSpecialTokensAreMatchedWhole() throws {
        let t = try Self.tiny()
        let text = ChatTemplate.userPrompt("hello")
        let ids = t.encode(text)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(ids.filter { $0 == 1 }.count, 2)
        XCTAssertEqual(ids.filter { $0 == 2 }.count, 1)
        XCTAssertTrue(ids.contains(t.id(of: "hello")!))
        XCTAssertEqual(t.decode(ids), text)
        XCTAssertEqual(t.encode("a<|im_end|>b<|endoftext|>"), [t.id(of: "a")!, 2, t.id(of: "b")!, 0])
        XCTAssertFalse(t.encode("<|im_end|>", parseSpecialTokens: false).contains(2))
        XCTAssertEqual(t.decode(t.encode("<|im_end|>", parseSpecialTokens: false)), "<|im_end|>")
        XCTAssertEqual(t.encode("<|im_end"), t.encode("<|im_end", parseSpecialTokens: false))
    }

    func testRoundTripArbitraryText() throws {
        let t = try Self.tiny()
        for text in ["", " ", "hello  world\n\n", "Ünïcödé ✓ 東京 🚀", "3.14159 + 2e10", "\u{0}\u{7F}\t\r\n",
                     "<|im_start|><|im_start|>x<|im_end|>"] {
            XCTAssertEqual(t.decode(t.encode(text)), text, text.debugDescription)
        }
        XCTAssertEqual(t.decode([-1, 9999]), "")
        XCTAssertEqual(t.bytes(for: t.id(of: "Ġworld")!), Array(" world".utf8))
    }

    func testChatTemplate() {
        XCTAssertEqual(ChatTemplate.userPrompt("Hi"), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let text = ChatTemplate.chatML([.init(role: "system", content: "S"), .init(role: "user", content: "U")],
                                       addGenerationPrompt: false)
        XCTAssertEqual(text, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n")
    }

    // MARK: From a GGUF file

    static func tokenizerFile(pre: String = "smollm", model: String = "gpt2", withMerges: Bool = true) -> Data {
        var w = GGUFTestWriter()
        w.add("tokenizer.ggml.model", .string(model))
        w.add("tokenizer.ggml.pre", .string(pre))
        w.add("tokenizer.ggml.tokens", .strings(tokens))
        w.add("tokenizer.ggml.token_type", .int32s(tokens.indices.map { $0 < 3 ? 3 : 1 }))
        if withMerges { w.add("tokenizer.ggml.merges", .strings(merges)) }
        w.add("tokenizer.ggml.bos_token_id", .u32(1))
        w.add("tokenizer.ggml.eos_token_id", .u32(2))
        return w.data
    }

    func testLoadsFromGGUF() throws {
        let t = try BPETokenizer(gguf: try GGUFFile(data: Self.tokenizerFile()))
        XCTAssertEqual(t.vocabularySize, Self.tokens.count)
        XCTAssertEqual(t.bosTokenID, 1)
        XCTAssertEqual(t.eosTokenID, 2)
        XCTAssertEqual(t.preTokenizer, .gpt2IsolatedDigits)
        XCTAssertTrue(t.isSpecial(2))
        XCTAssertEqual(t.encode("<|im_start|>hello world 42"),
                       [1, t.id(of: "hello")!, t.id(of: "Ġworld")!, t.id(of: "Ġ")!, t.id(of: "4")!, t.id(of: "2")!])
    }

    func testGGUFTokenizerErrors() throws {
        XCTAssertThrowsError(try BPETokenizer(gguf: try GGUFFile(data: Self.tokenizerFile(pre: "weird")))) {
            guard case .unsupportedModel? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try BPETokenizer(gguf: try GGUFFile(data: Self.tokenizerFile(model: "llama")))) {
            guard case .unsupportedModel? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try BPETokenizer(gguf: try GGUFFile(data: Self.tokenizerFile(withMerges: false)))) {
            XCTAssertEqual($0 as? GGUFError, .missingKey("tokenizer.ggml.merges"))
        }
        XCTAssertThrowsError(try BPETokenizer(tokens: ["a"], merges: [], eosTokenID: 5)) {
            guard case .invalidValue? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
    }
}
