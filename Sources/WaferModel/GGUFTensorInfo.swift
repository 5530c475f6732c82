/// Where one tensor lives in a GGUF file and what it looks like.
///
/// `dimensions` are in GGUF/ggml order, fastest-varying first: `dimensions[0]` (ggml's
/// `ne[0]`) is the length of one contiguous row. A weight matrix `W` with `out` rows of
/// `in` inputs is therefore stored as `[in, out]`. The byte range has already been checked
/// against the file when a `GGUFTensorInfo` exists.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Extents, fastest-varying first (`ne[0]`, `ne[1]`, …).
    public let dimensions: [Int]
    /// The element encoding.
    public let type: GGMLType
    /// Offset of the first byte, relative to the start of the data section.
    public let relativeOffset: Int
    /// Offset of the first byte from the start of the file.
    public let fileOffset: Int
    /// Total number of elements (product of `dimensions`).
    public let elementCount: Int
    /// Number of bytes the tensor's data occupies.
    public let byteCount: Int

    /// Length of one contiguous row (`ne[0]`).
    public var rowLength: Int { dimensions.first ?? 1 }

    /// Number of rows (product of all dimensions but the first).
    public var rowCount: Int { rowLength == 0 ? 0 : elementCount / rowLength }

    /// Dimensions slowest-varying first (PyTorch/NumPy order), e.g. `[out, in]` for a weight.
    public var shapeRowMajor: [Int] { dimensions.reversed() }
}
