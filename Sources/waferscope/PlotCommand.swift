import ArgumentParser
import Foundation
import WaferAnalysis
import WaferRender

/// `waferscope plot CSV --kind K -o OUT`: draws a figure of a sweep CSV as PNG or SVG.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a figure of a sweep CSV as PNG or SVG.",
        discussion: """
        The CSV has one row per kernel run and the header
          \(SweepTable.columns.joined(separator: ","))
        (side = N of an N×N mesh; predicted_cycles may be empty).

        Kinds:
          scaling            measured cycles against grid side per algorithm,
                             log-log; predictions dashed in the same colour
          model-vs-measured  predicted against measured cycles, log-log, with
                             y = x, a ±10 % band and the MAPE in the subtitle

        The image format follows the output's extension (.png or .svg).
        """
    )

    @Argument(help: ArgumentHelp("The sweep CSV file.", valueName: "csv"))
    var csv: String

    @Option(help: "What to draw: scaling or model-vs-measured.")
    var kind: String

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The image to write (.png or .svg).", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("Image size in pixels.", valueName: "WxH"))
    var size: String = "1600x1000"

    @Option(help: "Replace the figure's title.")
    var title: String?

    func run() throws {
        do {
            var options = FigureOptions(title: title)
            try options.setSize(size)
            try FigureJob.plotSweep(at: csv, kind: kind, output: output, options: options)
            print("wrote \(output) (\(options.width)x\(options.height))")
        } catch {
            throw figureFailure(error)
        }
    }
}
