/// Conversion of ggml tensor encodings to `Float`.
///
/// Block layouts (ggml, little-endian, one block covers 32 consecutive elements of a row):
/// - `Q8_0`: fp16 `d`, then 32 × int8 `q`; element `i` = `d * q[i]`.
/// - `Q4_0`: fp16 `d`, then 16 bytes of nibbles; element = `d * (q - 8)`.
/// - `Q4_1`: fp16 `d`, fp16 `m`, then 16 bytes of nibbles; element = `d * q + m`.
///   For both 4-bit formats byte `j`'s low nibble is element `j` and its high nibble is
///   element `j + 16` of the block.
///
/// Half-precision conversion is done on bit patterns so that it behaves the same on every
/// platform (Swift's `Float16` is unavailable on Intel macOS).
public enum GGUFQuantization {
    /// Converts IEEE binary16 bits to `Float`, exactly (subnormals, infinities and NaN included).
    @inline(__always)
    public static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2^-24, exactly representable in binary32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent &+ 112) << 23) | (mantissa << 13))
    }

    /// Converts a `Float` to IEEE binary16 bits, rounding to nearest even.
    ///
    /// Values beyond the half range become ±infinity; NaN stays a (quiet) NaN.
    public static func floatToHalf(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x007F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa == 0 ? 0 : 0x0200)
        }
        let e = exponent - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            // Subnormal half (or zero): shift the full significand into place and round.
            if e < -10 { return sign }
            let significand = mantissa | 0x0080_0000
            let shift = UInt32(14 - e)
            var half = significand >> shift
            let remainder = significand & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && (half & 1) == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && (half & 1) == 1) { half += 1 }
        return sign | UInt16(half)   // a carry into the exponent correctly yields the next binade or infinity
    }

    /// Converts bfloat16 bits to `Float` (exact).
    @inline(__always)
    public static func bfloat16ToFloat(_ b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// Number of bytes `count` elements of `type` occupy, or `nil` if `count` is not a whole
    /// number of blocks.
    public static func byteCount(of type: GGMLType, elements count: Int) -> Int? {
        guard count >= 0, count % type.blockSize == 0 else { return nil }
        return count / type.blockSize * type.bytesPerBlock
    }

    /// Dequantises `count` elements of `type` stored in `bytes`.
    ///
    /// - Parameters:
    ///   - name: the tensor name, used only in error messages.
    /// - Throws: `unsupportedTensorType` for encodings without a dequantiser, `invalidValue`
    ///   when `count` is not a whole number of blocks, `truncated` when `bytes` is too short.
    /// - Complexity: O(count).
    public static func dequantize(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int,
                                  name: String = "tensor") throws -> [Float] {
        guard type.isDequantizable else {
            throw GGUFError.unsupportedTensorType(tensor: name, type: type.description)
        }
        guard let needed = byteCount(of: type, elements: count) else {
            throw GGUFError.invalidValue(what: "'\(name)' element count",
                                         detail: "\(count) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        guard needed <= bytes.count else {
            throw GGUFError.truncated(what: "'\(name)' data", offset: 0, needed: needed, fileSize: bytes.count)
        }
        guard count > 0, let base = bytes.baseAddress else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            guard let dst = out.baseAddress else { initialized = 0; return }
            switch type {
            case .f32: dequantizeF32(base, dst, count)
            case .f16: dequantizeF16(base, dst, count)
            case .bf16: dequantizeBF16(base, dst, count)
            case .q8_0: dequantizeQ8_0(base, dst, count / 32)
            case .q4_0: dequantizeQ4_0(base, dst, count / 32)
            case .q4_1: dequantizeQ4_1(base, dst, count / 32)
            default: break   // excluded by isDequantizable above
            }
            initialized = count
        }
    }

    /// Dequantises a `Data`/`[UInt8]` buffer; see `dequantize(_:type:count:name:)`.
    public static func dequantize(_ bytes: [UInt8], type: GGMLType, count: Int, name: String = "tensor") throws -> [Float] {
        try bytes.withUnsafeBytes { try dequantize($0, type: type, count: count, name: name) }
    }

    // MARK: Kernels (callers guarantee the byte ranges)

    @inline(__always)
    private static func loadU16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    private static func dequantizeF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i < count {
            dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)))
            i &+= 1
        }
    }

    private static func dequantizeF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i < count {
            dst[i] = halfToFloat(loadU16(src, i &* 2))
            i &+= 1
        }
    }

    private static func dequantizeBF16(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i < count {
            dst[i] = bfloat16ToFloat(loadU16(src, i &* 2))
            i &+= 1
        }
    }

    /// - Complexity: O(blocks × 32).
    private static func dequantizeQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        let q = src.assumingMemoryBound(to: Int8.self)
        var b = 0
        while b < blocks {
            let base = b &* 34
            let d = halfToFloat(loadU16(src, base))
            let qs = q + (base &+ 2)
            let out = dst + (b &* 32)
            var j = 0
            while j < 32 {
                out[j] = d * Float(qs[j])
                j &+= 1
            }
            b &+= 1
        }
    }

    /// - Complexity: O(blocks × 32).
    private static func dequantizeQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        let u = src.assumingMemoryBound(to: UInt8.self)
        var b = 0
        while b < blocks {
            let base = b &* 18
            let d = halfToFloat(loadU16(src, base))
            let qs = u + (base &+ 2)
            let out = dst + (b &* 32)
            var j = 0
            while j < 16 {
                let byte = qs[j]
                out[j] = d * Float(Int(byte & 0x0F) &- 8)
                out[j &+ 16] = d * Float(Int(byte >> 4) &- 8)
                j &+= 1
            }
            b &+= 1
        }
    }

    /// - Complexity: O(blocks × 32).
    private static func dequantizeQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int) {
        let u = src.assumingMemoryBound(to: UInt8.self)
        var b = 0
        while b < blocks {
            let base = b &* 20
            let d = halfToFloat(loadU16(src, base))
            let m = halfToFloat(loadU16(src, base &+ 2))
            let qs = u + (base &+ 4)
            let out = dst + (b &* 32)
            var j = 0
            while j < 16 {
                let byte = qs[j]
                out[j] = d * Float(byte & 0x0F) + m
                out[j &+ 16] = d * Float(byte >> 4) + m
                j &+= 1
            }
            b &+= 1
        }
    }
}
