/// The figures `waferscope render` draws from a trace.
public enum TraceFigureKind: String, CaseIterable, Sendable {
    case timeline
    case congestion
    case congestionFrames = "congestion-frames"
    case memory

    /// Looks a kind up by its command-line name.
    ///
    /// - Throws: `RenderError.unknownKind` listing the known names.
    public static func named(_ name: String) throws -> TraceFigureKind {
        guard let k = TraceFigureKind(rawValue: name) else { throw RenderError.unknownKind(name, known: allCases.map(\.rawValue)) }
        return k
    }
}

/// The figures `waferscope plot` draws from a sweep CSV.
public enum SweepFigureKind: String, CaseIterable, Sendable {
    case scaling
    case modelVsMeasured = "model-vs-measured"

    /// Looks a kind up by its command-line name.
    ///
    /// - Throws: `RenderError.unknownKind` listing the known names.
    public static func named(_ name: String) throws -> SweepFigureKind {
        guard let k = SweepFigureKind(rawValue: name) else { throw RenderError.unknownKind(name, known: allCases.map(\.rawValue)) }
        return k
    }
}
