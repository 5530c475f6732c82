import XCTest
@testable import WaferLLM
import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

/// The decode step's arithmetic is fixed to the bit: cheaper kernels must give the same numbers.
///
/// The checksums below are FNV-1a hashes of the logits' bit patterns of a few decode runs of the
/// tiny model (random weights, fixed seed), taken from the straightforward implementation the
/// fast one replaced (commit c106c3f). Update them only when the decode arithmetic changes on purpose.
final class DecodeNumericsTests: XCTestCase {
    /// FNV-1a over the bit patterns of every logit of every step.
    static func checksum(_ steps: [[Float]]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for l in steps {
            for v in l {
                var b = v.bitPattern
                for _ in 0..<4 {
                    h = (h ^ UInt64(b & 0xff)) &* 0x100_0000_01b3
                    b >>= 8
                }
            }
        }
        return h
    }

    /// Logits of every step of a fixed token sequence on a `w × h` grid.
    static func run(_ w: Int, _ h: Int, policy: KVPolicy, threads: Int, replays: Bool = true) throws -> [[Float]] {
        try runWithCycles(w, h, policy: policy, threads: threads, replays: replays).logits
    }

    /// The logits, every step's end cycle, and how many runs were replayed (not simulated).
    static func runWithCycles(_ w: Int, _ h: Int, policy: KVPolicy, threads: Int, replays: Bool, config: ModelConfig = tinyConfig)
        throws -> (logits: [[Float]], ends: [Int64], replayed: Int) {
        let weights = try ModelWeights.random(config: config, seed: 42)
        // No records kept (as `generate` without `--trace`), so that layers may be replayed.
        let (decoder, _) = try makeDecoder(decoderSpec(w, h), config: config, weights: weights, policy: policy,
                                           keepsRecords: false)
        decoder.engine.numericsThreads = threads
        decoder.engine.replaysRuns = replays
        var out: [[Float]] = []
        for token in [3, 17, 42, 8, 8, 29, 1, 0, 49] {
            out.append(try XCTUnwrap(try decoder.step(token: token, phase: "decode")))
        }
        return (out, decoder.stepEnds, decoder.engine.stats.replayedRuns)
    }

    /// (grid, policy, checksum of the logits): the 12x10 and 16x8 runs have batches large enough
    /// to split over two host threads.
    static let cases: [(w: Int, h: Int, policy: KVPolicy, checksum: UInt64)] = [
        (3, 4, .shift, 0xb691_170d_3d19_8f7f), (4, 4, .concat, 0xcedb_ad7d_4daf_f9ae), (1, 5, .shift, 0x2931_d829_bf96_380c),
        (5, 2, .concat, 0x72e1_d843_fbea_1641), (12, 10, .shift, 0x9811_a4b9_dbe1_1220), (16, 8, .concat, 0x86de_f116_b4a5_bd73),
    ]

    func testDecodeLogitsAreBitIdenticalToTheStraightforwardCodeOnOneAndTwoThreads() throws {
        for c in Self.cases {
            for threads in [1, 2] {
                let logits = try Self.run(c.w, c.h, policy: c.policy, threads: threads)
                XCTAssertEqual(Self.checksum(logits), c.checksum, "\(c.w)x\(c.h) \(c.policy), \(threads) thread(s)")
            }
        }
    }

    /// Layers of a step that start like an earlier layer are replayed from it (same ops, same
    /// start state up to a shift in time): the same logits, to the bit, and the same cycles as
    /// simulating each. (Six layers: the first ones of a step may start differently.)
    func testReplayedLayersGiveTheLogitsAndCyclesOfSimulatedOnes() throws {
        var six = tinyConfig
        six.layerCount = 6
        for c in Self.cases where c.w * c.h >= 12 {
            let simulated = try Self.runWithCycles(c.w, c.h, policy: c.policy, threads: 1, replays: false, config: six)
            XCTAssertEqual(simulated.replayed, 0)
            for threads in [1, 2] {
                let replayed = try Self.runWithCycles(c.w, c.h, policy: c.policy, threads: threads, replays: true, config: six)
                let what = "\(c.w)x\(c.h) \(c.policy), \(threads) thread(s)"
                XCTAssertGreaterThan(replayed.replayed, 0, what)
                XCTAssertEqual(replayed.ends, simulated.ends, what)
                XCTAssertEqual(Self.checksum(replayed.logits), Self.checksum(simulated.logits), what)
            }
        }
    }

    func testTwoThreadsRunTheLargerGridsArithmetic() throws {
        let weights = try ModelWeights.random(config: tinyConfig, seed: 42)
        let (decoder, _) = try makeDecoder(decoderSpec(16, 8), config: tinyConfig, weights: weights, policy: .shift)
        decoder.engine.numericsThreads = 2
        for token in [3, 17, 42] { try decoder.step(token: token, phase: "decode") }
        XCTAssertGreaterThan(decoder.engine.stats.numericsWorks, 0, "the checksum cases must cover the two-thread path")
    }

    /// The tile GEMV against the naive loop (`TileMath.gemv`), bit for bit, zeros included.
    func testTileGEMVMatchesTheNaiveLoopBitForBit() {
        var rng = SplitMix64(seed: 9)
        for (k, n) in [(1, 1), (3, 7), (6, 10), (72, 192), (17, 33), (0, 5), (5, 0)] {
            let x = (0..<k).map { p -> Float in p % 4 == 1 ? 0 : rng.nextSymmetric(1) }
            let w = (0..<(k * n)).map { _ in rng.nextSymmetric(1e3) }
            let expected = TileMath.gemv(x, w, k: k, n: n)
            var got = [Float](repeating: 0, count: n)
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeBufferPointer { wb in
                    got.withUnsafeMutableBufferPointer { yb in
                        guard k > 0, n > 0 else { return }
                        DecodeMath.gemv(k: k, n: n, w: wb.baseAddress!, y: yb.baseAddress!) { xb[$0] }
                    }
                }
            }
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "k=\(k) n=\(n)")
        }
    }

    /// The decode kernels' SiLU against the reference's, bit for bit (extremes, zeros and NaN included).
    func testSiLUMatchesTheReferenceBitForBit() {
        var rng = SplitMix64(seed: 11)
        var xs: [Float] = [0, -0, 1, -1, 88.7, -88.7, 100, -104, .infinity, -.infinity, .nan,
                           .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        xs += (0..<10_000).map { _ in rng.nextSymmetric(30) }
        for x in xs {
            XCTAssertEqual(DecodeMath.silu(x).bitPattern, ReferenceModel.silu(x).bitPattern, "x=\(x)")
        }
    }
}
