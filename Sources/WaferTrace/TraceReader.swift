import Foundation
import WaferSpec

/// Reads a `.wtrace` file one chunk at a time, so exporters can stream traces larger than memory.
///
/// The header is read and checked by `init`; `next()` returns chunks until the end of the file.
/// A file cut inside a chunk ends the iteration quietly (`truncated` becomes true); a chunk whose
/// magic or CRC is wrong throws `TraceFormatError.corrupted`.
public struct TraceReader {
    /// One decoded chunk.
    public enum Chunk {
        case labels(first: Int, names: [String])
        case spans([Span])
        case messages([MessageRecord])
        case kernels([KernelMark])
        case violations([Violation])
        case linkTotals(LinkTotals)
        case linkWindow(index: Int, windowCycles: Int64, frame: [Int32])
        case coreTotals(CoreTotals)
        case end(RunSummary, [String: String])
    }

    public let spec: MeshSpec
    public let detail: TraceDetail
    public let headerMetadata: [String: String]
    /// True once a partial chunk at the end of the file was skipped.
    public private(set) var truncated = false
    /// True once the footer chunk was read.
    public private(set) var sawEnd = false

    private let handle: FileHandle
    private let fileSize: UInt64
    private var offset: UInt64
    private let path: String

    public init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw TraceFormatError.io("trace file '\(path)' does not exist")
        }
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw TraceFormatError.io("cannot open trace file '\(path)'")
        }
        handle = h
        fileSize = (try? h.seekToEnd()) ?? 0
        try? h.seek(toOffset: 0)
        let fixed = try Self.read(h, 16)
        guard fixed.count == 16, Array(fixed[0..<8]) == TraceFormat.magic else {
            throw TraceFormatError.notATrace(path)
        }
        var r = ByteReader(fixed, from: 8)
        let version = Int(try r.u32())
        guard version == TraceFormat.version else { throw TraceFormatError.unsupportedVersion(version) }
        let jsonLength = Int(try r.u32())
        guard UInt64(jsonLength) + 20 <= fileSize else { throw TraceFormatError.corrupted("header runs past the end of the file") }
        let json = try Self.read(h, jsonLength + 4)
        var cr = ByteReader(json, from: jsonLength)
        guard CRC32.checksum(json[0..<jsonLength]) == (try cr.u32()) else {
            throw TraceFormatError.corrupted("header checksum mismatch")
        }
        let header: TraceFormat.Header
        do { header = try JSONDecoder().decode(TraceFormat.Header.self, from: Data(json[0..<jsonLength])) } catch {
            throw TraceFormatError.corrupted("header is not valid JSON")
        }
        spec = header.spec
        detail = header.detail
        headerMetadata = header.metadata
        offset = UInt64(20 + jsonLength)
    }

    private static func read(_ h: FileHandle, _ n: Int) throws -> [UInt8] {
        do { return Array(try h.read(upToCount: n) ?? Data()) } catch {
            throw TraceFormatError.io("cannot read trace: \(error.localizedDescription)")
        }
    }

    /// The next chunk, or nil at the end of the file (or at a truncated final chunk).
    public mutating func next() throws -> Chunk? {
        if offset >= fileSize { return nil }
        if fileSize - offset < 13 { truncated = true; offset = fileSize; return nil }
        try? handle.seek(toOffset: offset)
        let head = try Self.read(handle, 13)
        guard head.count == 13 else { truncated = true; return nil }
        guard Array(head[0..<4]) == TraceFormat.chunkMagic else {
            throw TraceFormatError.corrupted("bad chunk magic at byte \(offset)")
        }
        var hr = ByteReader(head, from: 4)
        let kindRaw = try hr.u8()
        let count = Int(try hr.u32())
        let length = Int(try hr.u32())
        if UInt64(length) + 4 > fileSize - offset - 13 { truncated = true; offset = fileSize; return nil }
        let body = try Self.read(handle, length + 4)
        guard body.count == length + 4 else { truncated = true; return nil }
        var crcReader = ByteReader(body, from: length)
        let stored = try crcReader.u32()
        let crc = CRC32.checksum(body[0..<length], seed: CRC32.checksum(head[4...]))
        guard crc == stored else { throw TraceFormatError.corrupted("checksum mismatch in chunk at byte \(offset)") }
        offset += UInt64(13 + length + 4)
        guard let kind = TraceFormat.Kind(rawValue: kindRaw) else {
            throw TraceFormatError.corrupted("unknown chunk kind \(kindRaw) at byte \(offset)")
        }
        let payload = Array(body[0..<length])
        let chunk = try decode(kind, count: count, payload)
        if case .end = chunk { sawEnd = true }
        return chunk
    }

    private func decode(_ kind: TraceFormat.Kind, count: Int, _ payload: [UInt8]) throws -> Chunk {
        var r = ByteReader(payload)
        let g = MeshGeometry(spec)
        func core(_ v: Int64) throws -> Int32 {
            guard v >= 0, v < Int64(g.coreCount) else { throw TraceFormatError.corrupted("core \(v) outside the mesh") }
            return Int32(v)
        }
        switch kind {
        case .labels:
            let first = try r.int()
            var names: [String] = []
            for _ in 0..<count { names.append(try r.string()) }
            return .labels(first: first, names: names)
        case .spans:
            var out: [Span] = []
            out.reserveCapacity(count)
            var prevCore: Int64 = 0, prevStart: Int64 = 0
            for _ in 0..<count {
                let c = try core(prevCore + (try r.zigzag()))
                guard let k = SpanKind(rawValue: try r.u8()) else { throw TraceFormatError.corrupted("unknown span kind") }
                let label = try r.int32()
                let start = prevStart + (try r.zigzag())
                let dur = try r.int64()
                let macs = try r.int64()
                out.append(Span(core: c, kind: k, label: label, start: start, end: start + dur, macs: macs))
                prevCore = Int64(c); prevStart = start
            }
            return .spans(out)
        case .messages:
            var out: [MessageRecord] = []
            out.reserveCapacity(count)
            var prevSrc: Int64 = 0, prevInj: Int64 = 0
            for _ in 0..<count {
                let src = try core(prevSrc + (try r.zigzag()))
                let seq = try r.int32()
                let dst = try core(Int64(src) + (try r.zigzag()))
                let colour = try r.int32()
                let bytes = try r.int32()
                let inj = prevInj + (try r.zigzag())
                let head = inj + (try r.int64())
                let tail = head + (try r.int64())
                let hops = try r.int32()
                let relays = try r.int32()
                out.append(MessageRecord(source: src, sequence: seq, destination: dst, colour: colour, bytes: bytes,
                                         injection: inj, headArrival: head, tailArrival: tail, hops: hops, relays: relays))
                prevSrc = Int64(src); prevInj = inj
            }
            return .messages(out)
        case .kernels:
            var out: [KernelMark] = []
            for _ in 0..<count {
                let name = try r.string()
                let start = try r.int64()
                let end = start + (try r.int64())
                let n = try r.int()
                var params: [String: String] = [:]
                for _ in 0..<n { let k = try r.string(); params[k] = try r.string() }
                out.append(KernelMark(name: name, params: params, start: start, end: end))
            }
            return .kernels(out)
        case .violations:
            var out: [Violation] = []
            for _ in 0..<count {
                let kind: Violation.Kind = try r.u8() == 0 ? .memory : .routing
                let c = try core(try r.int64())
                out.append(Violation(kind: kind, core: c, value: try r.int64(), limit: try r.int64(), detail: try r.string()))
            }
            return .violations(out)
        case .linkTotals:
            let n = try r.int()
            guard n == g.linkCount else { throw TraceFormatError.corrupted("link totals for \(n) links, mesh has \(g.linkCount)") }
            var t = LinkTotals(linkCount: n)
            var i = -1
            for _ in 0..<count {
                i += 1 + (try r.int())
                guard i < n else { throw TraceFormatError.corrupted("link index \(i) outside the mesh") }
                t.busyCycles[i] = try r.int64(); t.bytes[i] = try r.int64(); t.peakQueue[i] = try r.int32()
            }
            return .linkTotals(t)
        case .linkWindow:
            let index = try r.int()
            let cycles = try r.int64()
            let n = try r.int()
            guard n == g.linkCount, index < 1 << 20 else { throw TraceFormatError.corrupted("bad link window header") }
            var frame = Array(repeating: Int32(0), count: n)
            var i = -1
            for _ in 0..<count {
                i += 1 + (try r.int())
                guard i < n else { throw TraceFormatError.corrupted("link index \(i) outside the mesh") }
                frame[i] = try r.int32()
            }
            return .linkWindow(index: index, windowCycles: cycles, frame: frame)
        case .coreTotals:
            let n = try r.int()
            guard n == g.coreCount else { throw TraceFormatError.corrupted("core totals for \(n) cores, mesh has \(g.coreCount)") }
            var c = CoreTotals(coreCount: n)
            for i in 0..<n {
                c.computeCycles[i] = try r.int64(); c.waitCycles[i] = try r.int64(); c.macs[i] = try r.int64()
                c.peakSramBytes[i] = try r.int32(); c.colours[i] = try r.int32(); c.messagesSent[i] = try r.int32()
                c.finish[i] = try r.int64()
            }
            return .coreTotals(c)
        case .end:
            do {
                let f = try JSONDecoder().decode(TraceFormat.Footer.self, from: Data(payload))
                return .end(f.summary, f.metadata)
            } catch {
                throw TraceFormatError.corrupted("footer is not valid JSON")
            }
        }
    }
}
