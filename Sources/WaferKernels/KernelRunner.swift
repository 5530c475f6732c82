import WaferMesh
import WaferSpec

/// The distributed GEMM algorithms.
public enum GEMMAlgorithm: String, CaseIterable, Sendable {
    case meshgemm, cannon, summa, gemmt
}

/// The allreduce algorithms a GEMV can use.
public enum GEMVAlgorithm: String, CaseIterable, Sendable {
    case ktree, pipeline, ring
}

/// Runs one kernel end to end on an engine: random inputs, the program, and (with payloads) the
/// comparison against the dense single-core reference.
public enum KernelRunner {
    /// Payload slots every kernel here fits in.
    public static let payloadSlots = 8

    /// Runs a GEMM on `grid`. Returns the largest |C_mesh − C_reference| when the engine carries
    /// payloads, nil for a timing-only run.
    public static func gemm(_ algorithm: GEMMAlgorithm, engine: MeshEngine, grid: KernelGrid, shape: GEMMShape,
                            groups: Int? = nil, seed: UInt64 = 1) throws -> Float? {
        let numerics = engine.store != nil
        let a = numerics ? Matrix.random(rows: shape.m, cols: shape.k, seed: seed) : nil
        let bRows = algorithm == .gemmt ? shape.n : shape.k, bCols = algorithm == .gemmt ? shape.k : shape.n
        let b = numerics ? Matrix.random(rows: bRows, cols: bCols, seed: seed &+ 1) : nil
        let result: (PayloadStore) -> Matrix
        switch algorithm {
        case .meshgemm, .cannon:
            let k = try RingGEMM(algorithm == .meshgemm ? .meshgemm : .cannon, engine: engine, grid: grid, shape: shape, a: a, b: b)
            try engine.run(k)
            result = k.result
        case .summa:
            let k = try SUMMA(engine: engine, grid: grid, shape: shape, a: a, b: b)
            try engine.run(k)
            result = k.result
        case .gemmt:
            let k = try GEMMT(engine: engine, grid: grid, shape: shape, groups: groups, a: a, b: b)
            try engine.run(k)
            result = k.result
        }
        guard let store = engine.store, let a, let b else { return nil }
        let reference = algorithm == .gemmt ? a.multiplied(by: b.transposed) : a.multiplied(by: b)
        return result(store).maxAbsDifference(reference)
    }

    /// Runs `y = x · W` with `rows × cols` W on `grid`. Returns the largest error of any core's
    /// copy of y against the dense reference when the engine carries payloads.
    public static func gemv(_ algorithm: GEMVAlgorithm, engine: MeshEngine, grid: KernelGrid, rows: Int, cols: Int,
                            groups: Int? = nil, seed: UInt64 = 1) throws -> Float? {
        let numerics = engine.store != nil
        let x = numerics ? Matrix.random(rows: 1, cols: rows, seed: seed).values : nil
        let w = numerics ? Matrix.random(rows: rows, cols: cols, seed: seed &+ 1) : nil
        let line: LineAlgorithm
        switch algorithm {
        case .ktree: line = .ktree(groups: groups ?? LineAlgorithm.defaultGroups(grid.rows))
        case .pipeline: line = .pipeline
        case .ring: line = .ring
        }
        let k = try MeshGEMV(engine: engine, grid: grid, rows: rows, cols: cols, algorithm: line, x: x, w: w)
        try engine.run(k)
        guard let store = engine.store, let x, let w else { return nil }
        let reference = Matrix(rows: 1, cols: rows, values: x).multiplied(by: w).values
        let y = k.result(store)
        var err: Float = 0
        for (a, b) in zip(y, reference) { err = max(err, abs(a - b)) }
        return max(err, k.replicaSpread(store))
    }
}
