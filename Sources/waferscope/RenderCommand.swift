import ArgumentParser
import Foundation
import WaferRender

/// `waferscope render TRACE --kind K -o OUT`: draws a figure of a trace as PNG or SVG.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw a figure of a trace as PNG or SVG.",
        discussion: """
        Kinds:
          timeline           per-core Gantt chart of compute, sending, waiting
                             and idle (full detail), or of the kernel each core
                             is in (kernel detail); cores share rows when there
                             are more cores than pixel rows
          congestion         link utilisation over the mesh, one triangle per
                             directed link, hottest links named; --time t0,t1
                             for a window of the run
          congestion-frames  small multiples of the congestion map over
                             successive windows on one colour scale (--panels)
          memory             peak SRAM per core against the budget; cores over
                             budget (PLMR-M violations) outlined in red

        The image format follows the output's extension (.png or .svg). Large
        meshes are drawn in blocks of cores summarised by --aggregate.
        """
    )

    @Argument(help: ArgumentHelp("The trace file (.wtrace).", valueName: "trace"))
    var trace: String

    @Option(help: "What to draw: timeline, congestion, congestion-frames or memory.")
    var kind: String

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The image to write (.png or .svg).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Only these cores (inclusive).", valueName: "x0,y0,x1,y1"))
    var region: String?

    @Option(help: ArgumentHelp("Only this window of cycles (timeline, congestion).", valueName: "t0,t1"))
    var time: String?

    @Option(help: ArgumentHelp("Summary of a block of cores on large meshes: mean or max (congestion, congestion-frames, memory; default max).", valueName: "mean|max"))
    var aggregate: String?

    @Option(help: "Time windows in congestion-frames, 1…64 (default 8).")
    var panels: Int?

    @Option(help: ArgumentHelp("Image size in pixels.", valueName: "WxH"))
    var size: String = "1600x1000"

    @Option(help: "Replace the figure's title.")
    var title: String?

    func run() throws {
        do {
            var options = FigureOptions(region: region, time: time, panels: panels, title: title)
            try options.setSize(size)
            if let aggregate { options.aggregate = try FigureOptions.aggregate(named: aggregate) }
            try FigureJob.renderTrace(at: trace, kind: kind, output: output, options: options)
            print("wrote \(output) (\(options.width)x\(options.height))")
        } catch {
            throw figureFailure(error)
        }
    }
}

/// Prints `error: <description>` to stderr and returns the exit code for a failed figure command.
func figureFailure(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode.failure
}
