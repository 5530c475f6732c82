import Foundation
import WaferSpec

/// Constants and chunk codecs of the `.wtrace` file format (see docs/trace-format.md).
public enum TraceFormat {
    /// File magic, 8 bytes.
    public static let magic: [UInt8] = Array("WSTRACE\u{0}".utf8)
    /// Chunk magic, 4 bytes.
    static let chunkMagic: [UInt8] = Array("WCHK".utf8)
    /// The version this build writes and reads.
    public static let version = 1
    /// Records per chunk before it is flushed.
    static let recordsPerChunk = 16_384

    /// Chunk kinds. Their order in a file is free, but `end` comes last.
    enum Kind: UInt8 {
        case labels = 1, spans = 2, messages = 3, kernels = 4, violations = 5
        case linkTotals = 6, linkWindow = 7, coreTotals = 8, end = 9
    }

    /// The JSON header after the magic.
    struct Header: Codable {
        var version: Int
        var spec: MeshSpec
        var detail: TraceDetail
        var metadata: [String: String]
    }

    /// The JSON payload of the `end` chunk.
    struct Footer: Codable {
        var summary: RunSummary
        var metadata: [String: String]
    }

    // MARK: - Encoders

    static func encodeLabels(_ labels: ArraySlice<String>, firstID: Int) -> [UInt8] {
        var w = ByteWriter()
        w.uvar(firstID)
        for s in labels { w.string(s) }
        return w.bytes
    }

    /// - Complexity: O(n); about 6–10 bytes a span.
    static func encodeSpans(_ spans: ArraySlice<Span>) -> [UInt8] {
        var w = ByteWriter(capacity: spans.count * 8)
        var prevCore: Int64 = 0, prevStart: Int64 = 0
        for s in spans {
            w.zigzag(Int64(s.core) - prevCore)
            w.u8(s.kind.rawValue)
            w.uvar(s.label)
            w.zigzag(s.start - prevStart)
            w.uvar(s.end - s.start)
            w.uvar(s.macs)
            prevCore = Int64(s.core); prevStart = s.start
        }
        return w.bytes
    }

    /// - Complexity: O(n); about 10–14 bytes a message.
    static func encodeMessages(_ messages: ArraySlice<MessageRecord>) -> [UInt8] {
        var w = ByteWriter(capacity: messages.count * 12)
        var prevSrc: Int64 = 0, prevInj: Int64 = 0
        for m in messages {
            w.zigzag(Int64(m.source) - prevSrc)
            w.uvar(m.sequence)
            w.zigzag(Int64(m.destination) - Int64(m.source))
            w.uvar(m.colour)
            w.uvar(m.bytes)
            w.zigzag(m.injection - prevInj)
            w.uvar(m.headArrival - m.injection)
            w.uvar(m.tailArrival - m.headArrival)
            w.uvar(m.hops)
            w.uvar(m.relays)
            prevSrc = Int64(m.source); prevInj = m.injection
        }
        return w.bytes
    }

    static func encodeKernels(_ marks: ArraySlice<KernelMark>) -> [UInt8] {
        var w = ByteWriter()
        for k in marks {
            w.string(k.name)
            w.uvar(k.start)
            w.uvar(k.end - k.start)
            let keys = k.params.keys.sorted()
            w.uvar(keys.count)
            for key in keys { w.string(key); w.string(k.params[key]!) }
        }
        return w.bytes
    }

    static func encodeViolations(_ vs: ArraySlice<Violation>) -> [UInt8] {
        var w = ByteWriter()
        for v in vs {
            w.u8(v.kind == .memory ? 0 : 1)
            w.uvar(v.core)
            w.uvar(v.value)
            w.uvar(v.limit)
            w.string(v.detail)
        }
        return w.bytes
    }

    /// Sparse: only links that carried traffic.
    static func encodeLinkTotals(_ t: LinkTotals) -> (bytes: [UInt8], count: Int) {
        var w = ByteWriter()
        w.uvar(t.busyCycles.count)
        var prev = -1, n = 0
        for i in t.busyCycles.indices where t.busyCycles[i] != 0 || t.peakQueue[i] != 0 {
            w.uvar(i - prev - 1)
            w.uvar(t.busyCycles[i]); w.uvar(t.bytes[i]); w.uvar(t.peakQueue[i])
            prev = i; n += 1
        }
        return (w.bytes, n)
    }

    static func encodeLinkWindow(index: Int, windowCycles: Int64, frame: [Int32]) -> (bytes: [UInt8], count: Int) {
        var w = ByteWriter()
        w.uvar(index)
        w.uvar(windowCycles)
        w.uvar(frame.count)
        var prev = -1, n = 0
        for i in frame.indices where frame[i] != 0 {
            w.uvar(i - prev - 1)
            w.uvar(frame[i])
            prev = i; n += 1
        }
        return (w.bytes, n)
    }

    static func encodeCoreTotals(_ c: CoreTotals) -> [UInt8] {
        var w = ByteWriter(capacity: c.macs.count * 8)
        w.uvar(c.macs.count)
        for i in c.macs.indices {
            w.uvar(c.computeCycles[i]); w.uvar(c.waitCycles[i]); w.uvar(c.macs[i])
            w.uvar(c.peakSramBytes[i]); w.uvar(c.colours[i]); w.uvar(c.messagesSent[i]); w.uvar(c.finish[i])
        }
        return w.bytes
    }

    // MARK: - Framing

    /// Frames a payload: magic, kind, record count, payload length, payload, CRC-32 of all but magic.
    static func frame(kind: Kind, count: Int, payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: payload.count + 17)
        w.bytes.append(contentsOf: chunkMagic)
        w.u8(kind.rawValue)
        w.u32(UInt32(truncatingIfNeeded: count))
        w.u32(UInt32(truncatingIfNeeded: payload.count))
        w.bytes.append(contentsOf: payload)
        let crc = CRC32.checksum(w.bytes[4...])
        w.u32(crc)
        return w.bytes
    }

    static func headerBytes(_ h: Header) -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let json = Array((try? enc.encode(h)) ?? Data())
        var w = ByteWriter()
        w.bytes.append(contentsOf: magic)
        w.u32(UInt32(version))
        w.u32(UInt32(json.count))
        w.bytes.append(contentsOf: json)
        w.u32(CRC32.checksum(json))
        return w.bytes
    }
}
