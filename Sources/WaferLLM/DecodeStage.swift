import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec

/// One region of the fabric holding a contiguous range of a model's layers (a pipeline stage).
///
/// When a model's layers do not fit one grid's SRAM, `MeshDecoder` places them over several
/// equally tall grids side by side along X; after a stage's last layer the residual stream is
/// handed to the next stage over the mesh (`HandOverProgram`). The last stage holds the LM head.
struct DecodeStage {
    let grid: KernelGrid
    let layout: DecodeLayout
    let layers: Range<Int>
    let holdsHead: Bool
    let builder: DecodeProgramBuilder
}

/// Chooses stage grids: the fewest equal stages of `stage` size, side by side from the mesh's
/// top-left corner, whose weights (and working buffers) fit every core's SRAM.
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
        let maxStages = g.width / stageWidth
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
                    try KernelGrid(geometry: g, x0: s * stageWidth, y0: 0, rows: stageHeight, cols: stageWidth)
                }
                return (grids, ranges)
            }
        }
        throw KernelError.shape("\(config.name) does not fit \(maxStages) stage(s) of \(stageWidth)x\(stageHeight) cores with \(spec.sramBytesPerCore) B each: use a wider --mesh or larger stages")
    }
}

/// Moves the residual stream from one stage to the next: each row's last core sends its x block
/// one hop east to the next stage's first core, which multicasts it along its row.
struct HandOverProgram: MeshProgram {
    let from: KernelGrid
    let to: KernelGrid
    let layout: DecodeLayout
    let direct: [Int32]     // per row: route from `from`'s last column to `to`'s first column
    let spread: [Int32]     // per row: multicast along `to`'s row (−1 for one column)
    let invocation: Int32
    let elementBytes: Int
    static let colourDirect: Int32 = 20, colourSpread: Int32 = 21

    init(engine: MeshEngine, from: KernelGrid, to: KernelGrid, layout: DecodeLayout, invocation: Int32) throws {
        self.from = from
        self.to = to
        self.layout = layout
        self.invocation = invocation
        elementBytes = engine.spec.elementBytes
        var direct: [Int32] = [], spread: [Int32] = []
        for i in 0..<from.rows {
            direct.append(try engine.routeXY(from: from.core(px: from.cols - 1, py: i), to: to.core(px: 0, py: i),
                                             colour: Int(Self.colourDirect)))
            spread.append(to.cols > 1 ? try engine.route(from: to.core(px: 0, py: i), colour: Int(Self.colourSpread),
                                                          legs: [RouteLeg(.east, to.cols - 1, deliverAlong: true)]) : -1)
        }
        self.direct = direct
        self.spread = spread
    }

    func op(core: Int, pc: Int) -> MeshOp? {
        var ops: [MeshOp] = []
        if let (px, py) = from.offsets(of: core), px == from.cols - 1 {
            let bytes = max(1, layout.dRange[py].count) * elementBytes
            ops = [.begin(invocation: invocation), .send(route: direct[py], bytes: bytes, buffer: DecodeSlot.x), .end(invocation: invocation)]
        } else if let (px, py) = to.offsets(of: core) {
            let bytes = max(1, layout.dRange[py].count) * elementBytes
            if px == 0 {
                ops = [.begin(invocation: invocation), .recv(colour: Self.colourDirect, buffer: DecodeSlot.x)]
                if spread[py] >= 0 { ops.append(.send(route: spread[py], bytes: bytes, buffer: DecodeSlot.x)) }
                ops.append(.end(invocation: invocation))
            } else {
                ops = [.begin(invocation: invocation), .recv(colour: Self.colourSpread, buffer: DecodeSlot.x), .end(invocation: invocation)]
            }
        }
        return pc < ops.count ? ops[pc] : nil
    }
}
