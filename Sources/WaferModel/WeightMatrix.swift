/// A dense Float32 matrix stored row-major, one row per output.
///
/// Orientation: `values[row * columns + column]`, with `rows` = outputs and `columns` =
/// inputs, so `y = W x` reads each row contiguously. This is exactly GGUF's layout for a
/// weight tensor with dimensions `[ne0, ne1] = [in, out]` (ne0 is the contiguous row), and
/// PyTorch's `nn.Linear.weight` of shape `[out, in]`. The token embedding uses the same
/// orientation: row `t` is the embedding of token `t`.
public struct WeightMatrix: Sendable, Equatable {
    /// Number of rows (outputs).
    public let rows: Int
    /// Number of columns (inputs); the length of one row.
    public let columns: Int
    /// Row-major values, `rows × columns` of them.
    public internal(set) var values: [Float]

    /// Wraps row-major values.
    ///
    /// - Precondition: `values.count == rows * columns`.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns,
                     "WeightMatrix: \(values.count) values for \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix of zeros.
    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, values: [Float](repeating: 0, count: rows * columns))
    }

    /// The element at (`row`, `column`).
    public subscript(row: Int, column: Int) -> Float {
        values[row * columns + column]
    }

    /// A copy of one row.
    public func row(_ r: Int) -> [Float] {
        Array(values[r * columns ..< (r + 1) * columns])
    }

    /// The sub-matrix made of rows `range` (e.g. one head's slice of a projection).
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        WeightMatrix(rows: range.count, columns: columns,
                     values: Array(values[range.lowerBound * columns ..< range.upperBound * columns]))
    }
}
