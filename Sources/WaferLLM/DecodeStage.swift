import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec

/// One region of the fabric holding a contiguous range of a model's layers (a pipeline stage).
///
/// When a model's layers do not fit one grid's SRAM, `MeshDecoder` places them over several
/// equally tall grids (side by side, then in further bands; see `StagePlanner`); after a stage's last layer the residual stream is
/// handed to the next stage over the mesh (`HandOverProgram`). The last stage holds the LM head.
struct DecodeStage {
    let grid: KernelGrid
    let layout: DecodeLayout
    let layers: Range<Int>
    let holdsHead: Bool
    let builder: DecodeProgramBuilder
}

/// Chooses stage grids: the fewest equal stages of `stage` size whose weights (and working
/// buffers) fit every core's SRAM, placed side by side from the mesh's top-left corner and, when a
/// band of stages fills the mesh's width, on in the next band below (row-major).
public enum StagePlanner {
    /// Layers per stage for `count` stages (the last may hold fewer).
    static func split(layers: Int, stages: Int) -> [Range<Int>] {
        let per = (layers + stages - 1) / stages
        return (0..<stages).map { s in min(layers, s * per)..<min(layers, (s + 1) * per) }.filter { !$0.isEmpty }
    }

    /// Peak persistent bytes on any core of a `cols × rows` grid holding `layers` layers (and the head).
    static func peakBytes(config: ModelConfig, cols: Int, rows: Int, layers: Int, head: Bool, elementBytes: Int) throws -> Int {
        let layout = try DecodeLayout(config: config, cols: cols, rows: rows)
        var worst = 0
        for i in 0..<rows {
            for j in 0..<cols {
                let b = DecodeWeights.bytes(layout: layout, row: i, col: j, elementBytes: elementBytes, layers: layers, head: head)
                worst = max(worst, b.reduce(0) { $0 + $1.1 })
            }
        }
        return worst
    }

    /// The stage grids for `config` on `geometry` with stages of `stageWidth × stageHeight` cores.
    ///
    /// - Parameter reserve: bytes per core kept free for the KV cache and scores.
    /// - Throws: when even one layer per stage does not fit, or the stages do not fit the mesh.
    public static func plan(config: ModelConfig, spec: MeshSpec, stageWidth: Int, stageHeight: Int,
                            reserve: Int = 0) throws -> (grids: [KernelGrid], layers: [Range<Int>]) {
        let g = MeshGeometry(spec)
        guard stageWidth > 0, stageHeight > 0, stageWidth <= g.width, stageHeight <= g.height else {
            throw KernelError.shape("stage \(stageWidth)x\(stageHeight) does not fit the \(g.width)x\(g.height) mesh")
        }
        let perBand = g.width / stageWidth, maxStages = perBand * (g.height / stageHeight)
        for stages in 1...max(1, min(maxStages, config.layerCount)) {
            let ranges = split(layers: config.layerCount, stages: stages)
            var fits = true
            for (s, r) in ranges.enumerated() {
                let head = s == ranges.count - 1
                let bytes = try peakBytes(config: config, cols: stageWidth, rows: stageHeight, layers: r.count, head: head,
                                          elementBytes: spec.elementBytes)
                if bytes + reserve > spec.sramBytesPerCore { fits = false; break }
            }
            if fits {
                let grids = try ranges.indices.map { s in
                    try KernelGrid(geometry: g, x0: (s % perBand) * stageWidth, y0: (s / perBand) * stageHeight,
                                   rows: stageHeight, cols: stageWidth)
                }
                return (grids, ranges)
            }
        }
        throw KernelError.shape("\(config.name) does not fit \(maxStages) stage(s) of \(stageWidth)x\(stageHeight) cores with \(spec.sramBytesPerCore) B each: use a wider --mesh or larger stages")
    }
}

/// Moves the residual stream from one stage to the next.
///
/// Decode replicates block i of x along row i, so any core of a row can hand it over. When the
/// next stage starts right after this one in the same band, each row's last core sends its block
/// one hop east and the next stage's first core multicasts it east along its row. Otherwise (the
/// next stage starts a new band) row i hands over from column i mod cols straight to the same
/// column of the next stage (XY route; the rows' routes use different rows and columns, so they
/// share no link while rows ≤ cols; with more rows than columns, rows i and i + cols meet on one
/// column), and that core multicasts west and east along its row. Colours: 20 for the one-hop
/// hand-over, 23 for the hand-over into a new band (it passes routers where a one-hop hand-over
/// on colour 20 ends, and a router holds one setting per colour), 21 east, 22 west: with decode's
/// 0–19, at most 24 per core.
struct HandOverProgram: MeshProgram {
    let from: KernelGrid
    let to: KernelGrid
    let layout: DecodeLayout
    /// Per row: the column (of both grids) that sends and receives.
    let sendColumn: [Int], receiveColumn: [Int]
    let direct: [Int32]     // per row: route from the sender to the receiver
    let east: [Int32]       // per row: multicast east of the receiver along `to`'s row (−1: none)
    let west: [Int32]       // per row: multicast west of the receiver (−1: none)
    let invocation: Int32
    let elementBytes: Int
    static let colourAdjacent: Int32 = 20, colourEast: Int32 = 21, colourWest: Int32 = 22, colourBand: Int32 = 23
    /// The hand-over's colour: `colourAdjacent` or `colourBand`.
    let colourDirect: Int32

    init(engine: MeshEngine, from: KernelGrid, to: KernelGrid, layout: DecodeLayout, invocation: Int32) throws {
        self.from = from
        self.to = to
        self.layout = layout
        self.invocation = invocation
        elementBytes = engine.spec.elementBytes
        let adjacent = to.y0 == from.y0 && to.x0 == from.x0 + from.cols
        colourDirect = adjacent ? Self.colourAdjacent : Self.colourBand
        let shared = min(from.cols, to.cols)
        var sendColumn: [Int] = [], receiveColumn: [Int] = [], direct: [Int32] = [], east: [Int32] = [], west: [Int32] = []
        for i in 0..<from.rows {
            let s = adjacent ? from.cols - 1 : i % shared, r = adjacent ? 0 : i % shared
            sendColumn.append(s)
            receiveColumn.append(r)
            direct.append(try engine.routeXY(from: from.core(px: s, py: i), to: to.core(px: r, py: i), colour: Int(colourDirect)))
            let receiver = to.core(px: r, py: i)
            east.append(r < to.cols - 1 ? try engine.route(from: receiver, colour: Int(Self.colourEast),
                                                           legs: [RouteLeg(.east, to.cols - 1 - r, deliverAlong: true)]) : -1)
            west.append(r > 0 ? try engine.route(from: receiver, colour: Int(Self.colourWest),
                                                 legs: [RouteLeg(.west, r, deliverAlong: true)]) : -1)
        }
        self.sendColumn = sendColumn
        self.receiveColumn = receiveColumn
        self.direct = direct
        self.east = east
        self.west = west
    }

    func op(core: Int, pc: Int) -> MeshOp? {
        var ops: [MeshOp] = []
        if let (px, py) = from.offsets(of: core), px == sendColumn[py] {
            let bytes = max(1, layout.dRange[py].count) * elementBytes
            ops = [.begin(invocation: invocation), .send(route: direct[py], bytes: bytes, buffer: DecodeSlot.x), .end(invocation: invocation)]
        } else if let (px, py) = to.offsets(of: core) {
            let bytes = max(1, layout.dRange[py].count) * elementBytes
            let r = receiveColumn[py]
            if px == r {
                ops = [.begin(invocation: invocation), .recv(colour: colourDirect, buffer: DecodeSlot.x)]
                if east[py] >= 0 { ops.append(.send(route: east[py], bytes: bytes, buffer: DecodeSlot.x)) }
                if west[py] >= 0 { ops.append(.send(route: west[py], bytes: bytes, buffer: DecodeSlot.x)) }
                ops.append(.end(invocation: invocation))
            } else {
                ops = [.begin(invocation: invocation), .recv(colour: px > r ? Self.colourEast : Self.colourWest, buffer: DecodeSlot.x),
                       .end(invocation: invocation)]
            }
        }
        return pc < ops.count ? ops[pc] : nil
    }
}
