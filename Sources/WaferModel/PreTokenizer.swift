/// Splits text into the pieces that byte-level BPE then encodes one at a time.
///
/// Implemented by hand (no regular-expression engine) on Unicode scalars:
/// - `.gpt2` is GPT-2's pattern
///   `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
///   with leftmost-first alternation and greedy runs, as Hugging Face's `ByteLevel`
///   pre-tokenizer and llama.cpp apply it.
/// - `.gpt2IsolatedDigits` first isolates every `\p{N}` scalar as its own piece
///   (Hugging Face's `Digits(individual_digits: true)`) and applies the GPT-2 pattern to
///   the text between digits. This is what GGUF's `tokenizer.ggml.pre = "smollm"` means
///   (llama.cpp groups it with `starcoder`, `refact`, `command-r`, `codeshell`, `exaone`).
///
/// `\s` is Unicode `White_Space`, `\p{L}` the letter categories and `\p{N}` the number
/// categories (Nd, Nl, No).
public enum PreTokenizer: String, Sendable, CaseIterable {
    case gpt2
    case gpt2IsolatedDigits

    /// The pre-tokenizer a GGUF `tokenizer.ggml.pre` name stands for.
    ///
    /// - Throws: `GGUFError.unsupportedModel` for names whose split rules are not implemented.
    public init(ggufName: String) throws {
        switch ggufName {
        case "gpt2", "default", "mpt", "olmo", "jais":
            self = .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva":
            self = .gpt2IsolatedDigits
        default:
            throw GGUFError.unsupportedModel("pre-tokenizer '\(ggufName)' is not implemented")
        }
    }

    /// Splits `text` into pre-tokens; concatenating them gives `text` back.
    ///
    /// - Complexity: O(n) in the number of Unicode scalars.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var ranges: [Range<Int>] = []
        switch self {
        case .gpt2:
            Self.splitGPT2(scalars, 0 ..< scalars.count, into: &ranges)
        case .gpt2IsolatedDigits:
            var start = 0
            for i in scalars.indices where Self.characterClass(scalars[i]) == .number {
                Self.splitGPT2(scalars, start ..< i, into: &ranges)
                ranges.append(i ..< i + 1)
                start = i + 1
            }
            Self.splitGPT2(scalars, start ..< scalars.count, into: &ranges)
        }
        return ranges.map { r in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[r])
            return String(view)
        }
    }

    // MARK: Implementation

    enum CharacterClass { case letter, number, space, other }

    /// The class of a scalar for the GPT-2 pattern.
    static func characterClass(_ s: Unicode.Scalar) -> CharacterClass {
        if s.isASCII {
            switch s.value {
            case 0x41 ... 0x5A, 0x61 ... 0x7A: return .letter
            case 0x30 ... 0x39: return .number
            case 0x09 ... 0x0D, 0x20: return .space
            default: return .other
            }
        }
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Applies the GPT-2 pattern to `c[range]`, appending the matched ranges.
    static func splitGPT2(_ c: [Unicode.Scalar], _ range: Range<Int>, into out: inout [Range<Int>]) {
        let hi = range.upperBound
        var i = range.lowerBound
        while i < hi {
            let end = matchGPT2(c, at: i, limit: hi)
            out.append(i ..< end)
            i = end
        }
    }

    /// The end of the GPT-2 match that starts at `i` (always `> i`).
    private static func matchGPT2(_ c: [Unicode.Scalar], at i: Int, limit hi: Int) -> Int {
        let first = c[i]
        // 's 't 'm 'd 're 've 'll (case-sensitive, as in GPT-2)
        if first == "'", i + 1 < hi {
            let a = c[i + 1]
            if a == "s" || a == "t" || a == "m" || a == "d" { return i + 2 }
            if i + 2 < hi {
                let b = c[i + 2]
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return i + 3 }
            }
        }
        let firstClass = characterClass(first)
        if firstClass != .space {
            return run(c, from: i, limit: hi, of: firstClass)
        }
        // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+" with the optional leading space.
        if first == " ", i + 1 < hi {
            let nextClass = characterClass(c[i + 1])
            if nextClass != .space { return run(c, from: i + 1, limit: hi, of: nextClass) }
        }
        // "\s+(?!\S)" then "\s+": a whitespace run gives up its last scalar to a following
        // non-space (so " word" keeps its space) unless the run is a single scalar.
        var k = i
        while k < hi, characterClass(c[k]) == .space { k += 1 }
        if k == hi || k - i == 1 { return k }
        return k - 1
    }

    /// The end of the run of scalars of class `cls` starting at `start`.
    private static func run(_ c: [Unicode.Scalar], from start: Int, limit hi: Int, of cls: CharacterClass) -> Int {
        var k = start
        while k < hi, characterClass(c[k]) == cls { k += 1 }
        return k
    }
}
