import Foundation
@testable import WaferModel

/// A minimal GGUF v3 writer for building test files byte by byte.
///
/// Values and tensors are written exactly as given (the writer does not validate), so tests
/// can also produce deliberately broken files.
struct GGUFTestWriter {
    /// A metadata value to write, with its GGUF type.
    enum Value {
        case u8(UInt8), i8(Int8), u16(UInt16), i16(Int16), u32(UInt32), i32(Int32), f32(Float)
        case bool(Bool), string(String), u64(UInt64), i64(Int64), f64(Double)
        case array(elementType: UInt32, [Value])

        var typeID: UInt32 {
            switch self {
            case .u8: return 0
            case .i8: return 1
            case .u16: return 2
            case .i16: return 3
            case .u32: return 4
            case .i32: return 5
            case .f32: return 6
            case .bool: return 7
            case .string: return 8
            case .array: return 9
            case .u64: return 10
            case .i64: return 11
            case .f64: return 12
            }
        }

        static func strings(_ s: [String]) -> Value { .array(elementType: 8, s.map { .string($0) }) }
        static func int32s(_ v: [Int32]) -> Value { .array(elementType: 5, v.map { .i32($0) }) }
    }

    /// A tensor to write: GGUF dimensions (ne0 first), raw ggml type id and encoded bytes.
    struct Tensor {
        var name: String
        var dimensions: [UInt64]
        var typeID: UInt32
        var bytes: [UInt8]
    }

    var version: UInt32 = 3
    var metadata: [(String, Value)] = []
    var tensors: [Tensor] = []
    var alignment = 32

    mutating func add(_ key: String, _ value: Value) { metadata.append((key, value)) }

    mutating func addF32(_ name: String, dimensions: [Int], _ values: [Float]) {
        var bytes: [UInt8] = []
        for v in values { Self.append(&bytes, v.bitPattern) }
        tensors.append(Tensor(name: name, dimensions: dimensions.map(UInt64.init), typeID: 0, bytes: bytes))
    }

    /// Encodes the file; also returns where each tensor's data begins.
    func encode() -> (data: Data, tensorOffsets: [Int]) {
        var out: [UInt8] = Array("GGUF".utf8)
        Self.append(&out, version)
        Self.append(&out, UInt64(tensors.count))
        Self.append(&out, UInt64(metadata.count))
        for (key, value) in metadata {
            Self.appendString(&out, key)
            Self.append(&out, value.typeID)
            Self.appendValue(&out, value)
        }
        var relative: [Int] = []
        var cursor = 0
        for t in tensors {
            relative.append(cursor)
            cursor += (t.bytes.count + alignment - 1) / alignment * alignment
        }
        for (t, offset) in zip(tensors, relative) {
            Self.appendString(&out, t.name)
            Self.append(&out, UInt32(t.dimensions.count))
            for d in t.dimensions { Self.append(&out, d) }
            Self.append(&out, t.typeID)
            Self.append(&out, UInt64(offset))
        }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        for t in tensors {
            out.append(contentsOf: t.bytes)
            while (out.count - dataStart) % alignment != 0 { out.append(0) }
        }
        return (Data(out), relative.map { $0 + dataStart })
    }

    var data: Data { encode().data }

    static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func appendString(_ out: inout [UInt8], _ s: String) {
        append(&out, UInt64(s.utf8.count))
        out.append(contentsOf: s.utf8)
    }

    static func appendValue(_ out: inout [UInt8], _ value: Value) {
        switch value {
        case let .u8(v): append(&out, v)
        case let .i8(v): append(&out, v)
        case let .u16(v): append(&out, v)
        case let .i16(v): append(&out, v)
        case let .u32(v): append(&out, v)
        case let .i32(v): append(&out, v)
        case let .f32(v): append(&out, v.bitPattern)
        case let .bool(v): append(&out, UInt8(v ? 1 : 0))
        case let .string(v): appendString(&out, v)
        case let .u64(v): append(&out, v)
        case let .i64(v): append(&out, v)
        case let .f64(v): append(&out, v.bitPattern)
        case let .array(elementType, items):
            append(&out, elementType)
            append(&out, UInt64(items.count))
            for item in items { appendValue(&out, item) }
        }
    }

    // MARK: Block encoders with exactly known values

    /// One Q8_0 block: fp16 scale bits then 32 signed bytes.
    static func q8_0Block(scaleBits: UInt16, _ q: [Int8]) -> [UInt8] {
        precondition(q.count == 32)
        var out: [UInt8] = []
        append(&out, scaleBits)
        for v in q { out.append(UInt8(bitPattern: v)) }
        return out
    }

    /// One Q4_1 block: fp16 d, fp16 m, then nibbles (element j low, j+16 high).
    static func q4_1Block(dBits: UInt16, mBits: UInt16, _ q: [UInt8]) -> [UInt8] {
        precondition(q.count == 32 && q.allSatisfy { $0 < 16 })
        var out: [UInt8] = []
        append(&out, dBits)
        append(&out, mBits)
        for j in 0 ..< 16 { out.append(q[j] | q[j + 16] << 4) }
        return out
    }
}

/// Writes a LLaMA GGUF (all tensors F32) holding `weights`, with a tiny tokenizer.
func makeLlamaGGUF(_ weights: ModelWeights, tokens: [String]? = nil, merges: [String] = []) -> Data {
    let c = weights.config
    var w = GGUFTestWriter()
    w.add("general.architecture", .string("llama"))
    w.add("general.name", .string(c.name))
    w.add("llama.embedding_length", .u32(UInt32(c.embeddingLength)))
    w.add("llama.block_count", .u32(UInt32(c.layerCount)))
    w.add("llama.attention.head_count", .u32(UInt32(c.headCount)))
    w.add("llama.attention.head_count_kv", .u32(UInt32(c.kvHeadCount)))
    w.add("llama.feed_forward_length", .u32(UInt32(c.feedForwardLength)))
    w.add("llama.context_length", .u32(UInt32(c.contextLength)))
    w.add("llama.rope.freq_base", .f32(c.ropeFreqBase))
    w.add("llama.rope.dimension_count", .u32(UInt32(c.headDim)))
    w.add("llama.attention.layer_norm_rms_epsilon", .f32(c.rmsNormEpsilon))
    w.add("llama.vocab_size", .u32(UInt32(c.vocabularySize)))
    w.add("tokenizer.ggml.model", .string("gpt2"))
    w.add("tokenizer.ggml.pre", .string("smollm"))
    let vocab = tokens ?? (0 ..< c.vocabularySize).map { "t\($0)" }
    w.add("tokenizer.ggml.tokens", .strings(vocab))
    w.add("tokenizer.ggml.merges", .strings(merges))
    w.add("tokenizer.ggml.eos_token_id", .u32(1))
    func matrix(_ name: String, _ m: WeightMatrix) { w.addF32(name, dimensions: [m.columns, m.rows], m.values) }
    matrix("token_embd.weight", weights.tokenEmbedding)
    for (i, l) in weights.layers.enumerated() {
        w.addF32("blk.\(i).attn_norm.weight", dimensions: [c.embeddingLength], l.attnNorm)
        matrix("blk.\(i).attn_q.weight", l.attnQ)
        matrix("blk.\(i).attn_k.weight", l.attnK)
        matrix("blk.\(i).attn_v.weight", l.attnV)
        matrix("blk.\(i).attn_output.weight", l.attnOutput)
        w.addF32("blk.\(i).ffn_norm.weight", dimensions: [c.embeddingLength], l.ffnNorm)
        matrix("blk.\(i).ffn_gate.weight", l.ffnGate)
        matrix("blk.\(i).ffn_up.weight", l.ffnUp)
        matrix("blk.\(i).ffn_down.weight", l.ffnDown)
    }
    w.addF32("output_norm.weight", dimensions: [c.embeddingLength], weights.outputNorm)
    if !c.tiedEmbeddings { matrix("output.weight", weights.output) }
    return w.data
}

/// Locations in the repository, found from this file's path (symlinks resolved).
enum TestPaths {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent()   // WaferModelTests
            .deletingLastPathComponent()   // Tests
            .deletingLastPathComponent()   // repository root
    }

    /// The real SmolLM2 GGUF (`WAFERSCOPE_MODEL` overrides the default location).
    static var smolLM2: URL {
        if let override = ProcessInfo.processInfo.environment["WAFERSCOPE_MODEL"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.appendingPathComponent(ModelLocations.smolLM2RelativePath)
    }
}
