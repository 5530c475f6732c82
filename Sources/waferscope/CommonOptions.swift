import ArgumentParser
import Foundation
import WaferSpec
import WaferTrace

/// The hardware options every command takes.
struct MeshOptions: ParsableArguments {
    @Option(help: "Hardware preset: \(MeshSpec.presetNames.joined(separator: ", ")).")
    var preset: String = "wse2"

    @Option(name: .customLong("spec"), help: ArgumentHelp("A MeshSpec JSON file (overrides --preset).", valueName: "file.json"))
    var specFile: String?

    @Option(help: ArgumentHelp("Use a WxH sub-grid of the fabric, e.g. 64x64.", valueName: "WxH"))
    var mesh: String?

    func resolve() throws -> MeshSpec {
        try MeshSpec.resolve(preset: preset, specFile: specFile, mesh: mesh)
    }
}

/// Options of every command that records a trace.
struct RecordOptions: ParsableArguments {
    @Option(name: .customLong("out"), help: ArgumentHelp("Trace file to write (.wtrace).", valueName: "trace.wtrace"))
    var out: String

    @Option(help: "How much to record: full (every span and message), kernel (one span per kernel per core, link windows), summary (totals).")
    var detail: TraceDetail = .full

    @Option(help: ArgumentHelp("With full detail, record spans and messages only in this region.", valueName: "x0,y0,x1,y1"))
    var region: String?

    @Option(help: ArgumentHelp("With full detail, record spans and messages only in this window of cycles.", valueName: "t0,t1"))
    var time: String?

    @Flag(help: "Record PLMR violations and run on, instead of stopping at the first.")
    var recordViolations = false

    /// Opens the recorder after checking every option.
    func recorder(spec: MeshSpec, metadata: [String: String]) throws -> TraceRecorder {
        let dir = (out as NSString).deletingLastPathComponent
        if !dir.isEmpty && !FileManager.default.fileExists(atPath: dir) {
            throw CLIError("output directory '\(dir)' does not exist")
        }
        let rec = try TraceRecorder(spec: spec, detail: detail, path: out, metadata: metadata)
        if let region { rec.region = try CoreRegion.parse(region, in: MeshGeometry(spec)) }
        if let time { rec.window = try CycleWindow.parse(time) }
        return rec
    }
}

extension TraceDetail: ExpressibleByArgument {}

/// A one-line command-line error.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Command-line rendering of the run arguments into trace metadata.
func commandLine() -> String {
    (["waferscope"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
}
