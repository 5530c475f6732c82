import Foundation
import XCTest
@testable import WaferTrace
import WaferSpec

/// Shared fixtures: a recorder filled by hand, written to a temporary file.
enum Fixture {
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wtrace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes a trace with `n` spans and `n` messages (chunks of 16 384 records) and returns its path.
    static func write(to dir: URL, n: Int, detail: TraceDetail = .full) throws -> String {
        let path = dir.appendingPathComponent("t.wtrace").path
        let rec = try TraceRecorder(spec: .tiny, detail: detail, path: path, metadata: ["command": "test"])
        let l = rec.label("compute")
        for i in 0..<n {
            rec.span(Span(core: Int32(i % 64), kind: .compute, label: l, start: Int64(i), end: Int64(i + 5), macs: 20))
            rec.message(MessageRecord(source: Int32(i % 64), sequence: Int32(i / 64), destination: Int32((i + 9) % 64),
                                      colour: 1, bytes: 64, injection: Int64(i), headArrival: Int64(i + 3),
                                      tailArrival: Int64(i + 18), hops: 3, relays: 0))
            rec.linkBusy(i % 256, start: Int64(i), cycles: 16, bytes: 64, queued: Int64(i % 7))
        }
        rec.kernel(KernelMark(name: "meshgemm", params: ["m": "64", "grid": "8x8"], start: 0, end: Int64(n)))
        rec.violation(Violation(kind: .memory, core: 3, value: 5000, limit: 4096, detail: "A 5000 B"))
        rec.coreFinal(3, peakSram: 5000, colours: 2, finish: Int64(n))
        rec.setMakespan(Int64(n + 18))
        try rec.finish()
        return path
    }
}

final class TraceFileTests: XCTestCase {
    func testRoundTripKeepsEveryRecord() throws {
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Fixture.write(to: dir, n: 40_000)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"), "renamed into place")
        let t = try Trace.read(path: path)
        XCTAssertTrue(t.complete)
        XCTAssertEqual(t.spec, .tiny)
        XCTAssertEqual(t.spans.count, 40_000)
        XCTAssertEqual(t.messages.count, 40_000)
        XCTAssertEqual(t.spans[12_345], Span(core: Int32(12_345 % 64), kind: .compute, label: 0, start: 12_345, end: 12_350, macs: 20))
        XCTAssertEqual(t.messages[39_999].tailArrival, 39_999 + 18)
        XCTAssertEqual(t.messages[39_999].sequence, Int32(39_999 / 64))
        XCTAssertEqual(t.kernels, [KernelMark(name: "meshgemm", params: ["m": "64", "grid": "8x8"], start: 0, end: 40_000)])
        XCTAssertEqual(t.violations.count, 1)
        XCTAssertEqual(t.label(0), "compute")
        XCTAssertEqual(t.summary.makespanCycles, 40_018)
        XCTAssertEqual(t.summary.messages, 40_000)
        XCTAssertEqual(t.coreTotals.peakSramBytes[3], 5000)
        XCTAssertEqual(t.linkTotals.busyCycles[5], Int64((40_000 / 256 + (5 < 40_000 % 256 ? 1 : 0)) * 16))
        XCTAssertEqual(t.metadata["command"], "test")
        XCTAssertNotNil(t.linkWindows)
        // Compactness: messages dominate the file; well under 16 bytes each plus spans.
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertLessThan(size, 40_000 * (16 + 12))
    }

    func testTruncatedFileIsReadUpToItsLastWholeChunk() throws {
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Fixture.write(to: dir, n: 40_000)
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        // Cut in the middle of the second span chunk: the first chunks survive.
        let cutPath = dir.appendingPathComponent("cut.wtrace").path
        for cut in [full.count / 2, full.count - 3, full.count / 4] {
            try full.prefix(cut).write(to: URL(fileURLWithPath: cutPath))
            let t = try Trace.read(path: cutPath)
            XCTAssertFalse(t.complete, "cut at \(cut)")
            XCTAssertTrue([0, 16_384, 32_768, 40_000].contains(t.spans.count), "only whole chunks: \(t.spans.count)")
            XCTAssertLessThanOrEqual(t.spans.count, 40_000)
        }
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: cutPath))
        XCTAssertGreaterThan(try Trace.read(path: cutPath).spans.count, 0)
        // Cut inside the header: nothing can be read, and the error says so.
        try full.prefix(30).write(to: URL(fileURLWithPath: cutPath))
        XCTAssertThrowsError(try Trace.read(path: cutPath)) { e in XCTAssertTrue("\(e)".contains("header"), "\(e)") }
    }

    func testCorruptedFileIsRejectedWithAClearError() throws {
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Fixture.write(to: dir, n: 1000)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x5A
        let bad = dir.appendingPathComponent("bad.wtrace").path
        try bytes.write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try Trace.read(path: bad)) { error in
            XCTAssertTrue("\(error)".hasPrefix("corrupted trace:"), "\(error)")
        }
        var magic = try Data(contentsOf: URL(fileURLWithPath: path))
        magic[0] = 0x00
        try magic.write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try Trace.read(path: bad)) { error in
            XCTAssertEqual(error as? TraceFormatError, .notATrace(bad))
        }
        XCTAssertThrowsError(try Trace.read(path: dir.appendingPathComponent("missing.wtrace").path)) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
        }
    }

    func testPartialFileOfADeadRunIsReadable() throws {
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("dead.wtrace").path
        let rec = try TraceRecorder(spec: .tiny, detail: .full, path: path)
        for i in 0..<(TraceFormat.recordsPerChunk + 10) {
            rec.span(Span(core: 1, kind: .compute, label: rec.label("x"), start: Int64(i), end: Int64(i + 1), macs: 1))
        }
        // The run dies here: no finish. What was flushed is in the .partial file.
        let t = try Trace.read(path: path + ".partial")
        XCTAssertFalse(t.complete)
        XCTAssertEqual(t.spans.count, TraceFormat.recordsPerChunk)
        XCTAssertEqual(t.summary.makespanCycles, Int64(TraceFormat.recordsPerChunk))
    }

    func testSummaryDetailKeepsTotalsButNoEvents() throws {
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Fixture.write(to: dir, n: 500, detail: .summary)
        let t = try Trace.read(path: path)
        XCTAssertTrue(t.spans.isEmpty)
        XCTAssertTrue(t.messages.isEmpty)
        XCTAssertEqual(t.summary.messages, 500)
        XCTAssertEqual(t.summary.computeEvents, 500)
        XCTAssertEqual(t.linkTotals.busyCycles.reduce(0, +), 500 * 16)
        XCTAssertNil(t.linkWindows)
    }

    func testARecorderThatDropsRecordsKeepsEveryTotalAndNoSpans() throws {
        /// Fills an in-memory recorder with kernel and compute spans and messages at `detail`.
        func fill(_ rec: TraceRecorder) -> Trace? {
            let l = rec.label("k")
            for i in 0..<3000 {
                rec.span(Span(core: Int32(i % 64), kind: .kernel, label: l, start: Int64(i), end: Int64(i + 9), macs: 0))
                rec.span(Span(core: Int32(i % 64), kind: .compute, label: l, start: Int64(i), end: Int64(i + 4), macs: 12))
                rec.message(MessageRecord(source: Int32(i % 64), sequence: Int32(i / 64), destination: Int32((i + 1) % 64),
                                          colour: 2, bytes: 16, injection: Int64(i), headArrival: Int64(i + 1),
                                          tailArrival: Int64(i + 4), hops: 1 + Int32(i % 5), relays: 0))
                rec.linkBusy(i % 256, start: Int64(i), cycles: 4, bytes: 16, queued: 0)
            }
            rec.kernel(KernelMark(name: "k", params: [:], start: 0, end: 3009))
            rec.setMakespan(3009)
            return try? rec.finish()
        }
        for detail in [TraceDetail.full, .summary] {
            let kept = try XCTUnwrap(fill(try TraceRecorder(spec: .tiny, detail: detail)))
            let dropped = try XCTUnwrap(fill(try TraceRecorder(spec: .tiny, detail: detail, keepsRecords: false)))
            XCTAssertEqual(kept.spans.count, detail == .full ? 6000 : 3000, "kernel spans are kept at every detail")
            XCTAssertTrue(dropped.spans.isEmpty)
            XCTAssertTrue(dropped.messages.isEmpty)
            XCTAssertEqual(dropped.summary, kept.summary)
            XCTAssertEqual(dropped.coreTotals, kept.coreTotals)
            XCTAssertEqual(dropped.linkTotals, kept.linkTotals)
            XCTAssertEqual(dropped.kernels, kept.kernels)
            XCTAssertNil(dropped.linkWindows)
        }
    }

    /// Per-core totals keep 32 bits in the accumulators and the rest aside: sums across 2³² (many
    /// small adds, one add larger than 2³², and replayed differences) stay exact.
    func testCoreTotalsPast32BitsAreExact() throws {
        let rec = try TraceRecorder(spec: .tiny, detail: .summary)
        let l = rec.label("k")
        var cycles = [Int64](repeating: 0, count: 64), macs = cycles, waits = cycles
        var random = UInt64(7)
        func next(_ n: Int64) -> Int64 {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Int64(random >> 33) % n
        }
        let before = rec.runningTotals()
        for i in 0..<4000 {
            let c = i % 5, big = i % 997 == 0
            let length = big ? 5_000_000_000 + next(1000) : next(3_000_000)
            let m = big ? 9_000_000_000 : next(4_000_000)
            rec.span(Span(core: Int32(c), kind: .compute, label: l, start: 0, end: length, macs: m))
            rec.span(Span(core: Int32(c + 5), kind: .wait, label: l, start: 0, end: length, macs: 0))
            cycles[c] += length
            macs[c] += m
            waits[c + 5] += length
        }
        // A replay adds what a run added: the difference of running totals, again.
        let d = rec.runningTotals().difference(since: before)
        XCTAssertEqual(d.computeCycles, cycles)
        rec.add(d)
        rec.setMakespan(1)
        let t = try rec.finish()
        XCTAssertGreaterThan(cycles.max()!, 1 << 32)
        XCTAssertEqual(t.coreTotals.computeCycles, cycles.map { 2 * $0 })
        XCTAssertEqual(t.coreTotals.macs, macs.map { 2 * $0 })
        XCTAssertEqual(t.coreTotals.waitCycles, waits.map { 2 * $0 })
        XCTAssertEqual(t.summary.totalMacs, 2 * macs.reduce(0, +))
    }

    func testVarintsAndZigzagRoundTrip() throws {
        var w = ByteWriter()
        let values: [Int64] = [0, 1, -1, 63, -64, 1 << 40, -(1 << 40), .max, .min]
        for v in values { w.zigzag(v) }
        w.varint(.max)
        var r = ByteReader(w.bytes)
        for v in values { XCTAssertEqual(try r.zigzag(), v) }
        XCTAssertEqual(try r.varint(), .max)
        XCTAssertThrowsError(try r.u8())
    }

    func testCRC32MatchesTheStandardCheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }
}

final class LinkWindowTests: XCTestCase {
    func testIntervalsSplitAcrossWindowsAndCoarsenKeepsTotals() {
        var acc = LinkWindowAccumulator(linkCount: 4, initialWindowCycles: 10, memoryBudgetBytes: 0)
        acc.add(link: 1, start: 5, cycles: 20)   // 5 in [0,10), 10 in [10,20), 5 in [20,30)
        XCTAssertEqual(acc.frames.map { $0[1] }, [5, 10, 5])
        acc.add(link: 2, start: 100, cycles: 10)  // beyond 4 frames of 10: coarsens to width 40
        XCTAssertEqual(acc.windowCycles, 40)
        XCTAssertEqual(acc.frames.map { $0[1] }.reduce(0, +), 20)
        XCTAssertEqual(acc.frames.map { $0[2] }.reduce(0, +), 10)
        XCTAssertEqual(acc.frames[2][2], 10)
    }
}
