import ArgumentParser
import Foundation
import WaferSpec
import WaferTrace

/// `waferscope export TRACE --perfetto -o out.json`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a trace as Chrome trace-event JSON for Perfetto (ui.perfetto.dev).",
        discussion: "Streams the trace: memory stays flat however large it is. Cut big meshes with --region and --time."
    )

    @Argument(help: "A .wtrace file.")
    var trace: String

    @Flag(help: "Chrome/Perfetto JSON (the only format so far).")
    var perfetto = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Output file.", valueName: "out.json"))
    var output: String

    @Option(help: ArgumentHelp("Only cores in this region.", valueName: "x0,y0,x1,y1"))
    var region: String?

    @Option(help: ArgumentHelp("Only events overlapping these cycles.", valueName: "t0,t1"))
    var time: String?

    func run() throws {
        guard perfetto else { throw CLIError("choose a format: --perfetto") }
        let header = try TraceReader(path: trace)
        let g = MeshGeometry(header.spec)
        let exporter = PerfettoExporter(region: try region.map { try CoreRegion.parse($0, in: g) },
                                        window: try time.map { try CycleWindow.parse($0) })
        let stats = try exporter.export(input: trace, output: output)
        print("wrote \(output): \(stats.slices) slices, \(stats.flows) message flows, \(stats.counters) counter samples")
    }
}
