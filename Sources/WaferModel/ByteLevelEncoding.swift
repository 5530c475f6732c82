/// GPT-2's reversible mapping between bytes and printable Unicode scalars.
///
/// Byte-level BPE vocabularies never contain raw bytes: every byte is first replaced by a
/// visible scalar so that tokens are printable strings. The 188 bytes that are already
/// printable Latin-1 (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) map to themselves; the remaining 68
/// (control characters, space, DEL, NBSP, soft hyphen, …) map in order to U+0100, U+0101, …,
/// which is why a space shows up as `Ġ` (U+0120) and a newline as `Ċ` (U+010A).
public enum ByteLevelEncoding {
    /// The scalar that stands for each byte value, indexed by the byte.
    public static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0 ..< 256 {
            let printable = (33 ... 126).contains(b) || (161 ... 172).contains(b) || (174 ... 255).contains(b)
            let value = printable ? UInt32(b) : next
            if !printable { next += 1 }
            table[b] = Unicode.Scalar(value) ?? "\0"   // values ≤ 0x143 are always valid scalars
        }
        return table
    }()

    /// The byte each mapped scalar stands for.
    public static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// Maps bytes to the printable string a byte-level vocabulary uses for them.
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = String.UnicodeScalarView()
        for b in bytes { out.append(byteToScalar[Int(b)]) }
        return String(out)
    }

    /// Maps a byte-level string back to bytes; scalars outside the mapping are kept as their
    /// own UTF-8 bytes.
    public static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            if let b = scalarToByte[s.value] {
                out.append(b)
            } else {
                out.append(contentsOf: String(s).utf8)
            }
        }
        return out
    }
}
