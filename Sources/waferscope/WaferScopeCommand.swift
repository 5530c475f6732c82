import ArgumentParser

/// The `waferscope` command-line tool.
@main
struct WaferScopeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waferscope",
        abstract: "Run programs on a simulated wafer-scale mesh, record what every core and link did, and look at it.",
        discussion: """
        Every command takes --preset NAME (wse2, wse3, small, tiny; default wse2), --spec FILE.json \
        (a MeshSpec written as JSON) and --mesh WxH (a sub-grid of the fabric).
        """,
        subcommands: allSubcommands
    )
}

/// The subcommands, in `--help` order.
private let allSubcommands: [ParsableCommand.Type] = [
    RecordCommand.self, GenerateCommand.self, KVCapacityCommand.self, InfoCommand.self, ValidateCommand.self,
    SweepCommand.self, ExportCommand.self, RenderCommand.self, PlotCommand.self,
]
