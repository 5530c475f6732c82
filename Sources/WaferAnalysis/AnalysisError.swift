import WaferSpec
import WaferTrace

/// Why a trace or a sweep file cannot give the data a figure asks for, as one line.
///
/// Every case's `description` is a complete sentence fragment meant to follow `error: ` on a
/// command line, so the CLI prints it as is.
public enum AnalysisError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The trace keeps no spans (it was recorded with `--detail summary`).
    case noSpans(TraceDetail)
    /// The trace keeps no per-window link counts (summary detail), so no time window can be cut.
    case noLinkWindows
    /// The run did nothing measurable: its makespan is zero cycles.
    case emptyRun
    /// A cycle window that does not overlap the recorded run.
    case windowOutsideRun(CycleWindow, makespan: Int64)
    /// A malformed sweep CSV (missing columns, a bad number, no rows).
    case badSweep(String)

    public var description: String {
        switch self {
        case .noSpans(let d):
            return "the trace was recorded with --detail \(d.rawValue) and has no spans to draw a timeline from (record with --detail full or kernel)"
        case .noLinkWindows:
            return "the trace has no per-window link counts (recorded with --detail summary); drop --time or record with --detail full or kernel"
        case .emptyRun:
            return "the trace records no activity (makespan 0 cycles)"
        case .windowOutsideRun(let w, let m):
            return "time window \(w.start),\(w.end) lies outside the run (makespan \(m) cycles)"
        case .badSweep(let s):
            return s
        }
    }
}
