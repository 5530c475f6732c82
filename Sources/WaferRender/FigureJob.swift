import Foundation
import WaferAnalysis
import WaferSpec
import WaferTrace

/// What the `render` and `plot` commands do, as library calls that throw one-line errors.
public enum FigureJob {
    /// The format of `path`, after checking it can be written (its directory exists and is
    /// writable, and it is not a directory), so bad outputs fail before any work.
    ///
    /// - Throws: `RenderError.badExtension` or `.cannotWrite`.
    @discardableResult
    public static func checkOutput(_ path: String) throws -> ImageFormat {
        let format = try ImageFormat(path: path)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw RenderError.cannotWrite(path: path, reason: "it is a directory")
        }
        let dir = (path as NSString).deletingLastPathComponent
        let parent = dir.isEmpty ? "." : dir
        guard fm.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw RenderError.cannotWrite(path: path, reason: "directory '\(parent)' does not exist")
        }
        guard fm.isWritableFile(atPath: parent) else {
            throw RenderError.cannotWrite(path: path, reason: "directory '\(parent)' is not writable")
        }
        return format
    }

    /// The figure of `kind` for a trace, with the options applied.
    ///
    /// - Throws: `RenderError.badOption` for an option that does not apply or does not parse
    ///   (e.g. a region outside the mesh), `AnalysisError` when the trace lacks the data.
    public static func figure(for trace: Trace, kind: TraceFigureKind, options o: FigureOptions) throws -> any Figure {
        let g = trace.geometry
        let region = try o.region.map { text -> CoreRegion in
            do { return try CoreRegion.parse(text, in: g) } catch let SpecError.invalid(s) { throw RenderError.badOption("bad --region: " + s) }
        }
        let window = try o.time.map { text -> CycleWindow in
            do { return try CycleWindow.parse(text) } catch let SpecError.invalid(s) { throw RenderError.badOption("bad --time: " + s) }
        }
        func reject(_ flag: String, _ given: Bool) throws {
            if given { throw RenderError.badOption("\(flag) does not apply to --kind \(kind.rawValue)") }
        }
        var figure: any Figure
        switch kind {
        case .timeline:
            try reject("--aggregate", o.aggregate != nil)
            try reject("--panels", o.panels != nil)
            figure = try Timeline(trace: trace, region: region, window: window)
        case .congestion:
            try reject("--panels", o.panels != nil)
            figure = try CongestionMap(trace: trace, region: region, window: window, aggregate: o.aggregate ?? .max)
        case .congestionFrames:
            try reject("--time", o.time != nil)
            if let p = o.panels, !(1...64).contains(p) { throw RenderError.badOption("--panels must be 1…64, got \(p)") }
            figure = try CongestionFrames(trace: trace, region: region, panels: o.panels ?? 8, aggregate: o.aggregate ?? .max)
        case .memory:
            try reject("--time", o.time != nil)
            try reject("--panels", o.panels != nil)
            figure = MemoryMap(trace: trace, region: region, aggregate: o.aggregate ?? .max)
        }
        if let t = o.title { figure.title = t }
        return figure
    }

    /// The figure of `kind` for a sweep table.
    ///
    /// - Throws: `RenderError.badOption` for trace-only options, `AnalysisError` when the table
    ///   lacks the data (e.g. no predictions for model-vs-measured).
    public static func figure(for table: SweepTable, kind: SweepFigureKind, options o: FigureOptions) throws -> any Figure {
        for (flag, given) in [("--region", o.region != nil), ("--time", o.time != nil), ("--aggregate", o.aggregate != nil), ("--panels", o.panels != nil)] where given {
            throw RenderError.badOption("\(flag) does not apply to plots")
        }
        var figure: any Figure
        switch kind {
        case .scaling: figure = ScalingPlot(table: table)
        case .modelVsMeasured: figure = try ModelVsMeasuredPlot(table: table)
        }
        if let t = o.title { figure.title = t }
        return figure
    }

    /// `waferscope render`: reads the trace, draws `kind` and writes `output` (.png or .svg).
    public static func renderTrace(at tracePath: String, kind: String, output: String, options: FigureOptions) throws {
        let k = try TraceFigureKind.named(kind)
        let format = try checkOutput(output)
        let trace = try Trace.read(path: tracePath)
        try write(try figure(for: trace, kind: k, options: options), to: output, format: format, options: options)
    }

    /// `waferscope plot`: reads the sweep CSV, draws `kind` and writes `output` (.png or .svg).
    public static func plotSweep(at csvPath: String, kind: String, output: String, options: FigureOptions) throws {
        let k = try SweepFigureKind.named(kind)
        let format = try checkOutput(output)
        let table = try SweepTable.read(path: csvPath)
        try write(try figure(for: table, kind: k, options: options), to: output, format: format, options: options)
    }

    /// Renders `figure` and writes the file.
    ///
    /// - Throws: `RenderError.cannotWrite` when the file cannot be written.
    public static func write(_ figure: any Figure, to path: String, format: ImageFormat, options: FigureOptions) throws {
        let data = try figure.render(format: format, width: options.width, height: options.height)
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RenderError.cannotWrite(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}
