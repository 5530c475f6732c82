import Foundation

extension MeshSpec {
    /// Cerebras WSE-2 as exposed by the SDK: 757×996 usable cores at 1.1 GHz, 48 KB SRAM each.
    ///
    /// Facts from the paper and vendor material: one 32-bit wavelet per link direction per cycle
    /// (4 B/cycle), about one cycle per router hop (α = 1), 24 routable colours, FP16 SIMD-4 MACs.
    /// Chosen by us (the paper gives no number): β = 16 cycles for a software relay (a receive
    /// task's activation plus the re-send's DSD set-up, a few instructions each at one per cycle)
    /// and 24 cycles of fixed overhead per issued operation (function call, loop set-up, logic
    /// checks). Both are fields, so a measured value can replace them through `--spec FILE`.
    public static let wse2 = MeshSpec(
        name: "wse2", width: 757, height: 996, clockHz: 1.1e9, sramBytesPerCore: 48 * 1024,
        linkBytesPerCycle: 4, rampBytesPerCycle: 4, hopLatencyCycles: 1, relayLatencyCycles: 16,
        colorsPerCore: 24, macsPerCycle: 4, opOverheadCycles: 24, elementBytes: 2)

    /// Cerebras WSE-3 as exposed by the SDK: 762×1172 cores; per-core figures as WSE-2.
    public static let wse3 = MeshSpec(
        name: "wse3", width: 762, height: 1172, clockHz: 1.1e9, sramBytesPerCore: 48 * 1024,
        linkBytesPerCycle: 4, rampBytesPerCycle: 4, hopLatencyCycles: 1, relayLatencyCycles: 16,
        colorsPerCore: 24, macsPerCycle: 8, opOverheadCycles: 24, elementBytes: 2)

    /// A small mesh with round numbers for hand-checked tests: 8×8, α = 1, β = 4, no op overhead.
    public static let tiny = MeshSpec(
        name: "tiny", width: 8, height: 8, clockHz: 1e9, sramBytesPerCore: 4096,
        linkBytesPerCycle: 4, rampBytesPerCycle: 4, hopLatencyCycles: 1, relayLatencyCycles: 4,
        colorsPerCore: 8, macsPerCycle: 1, opOverheadCycles: 0, elementBytes: 4)

    /// A 64×64 test mesh with WSE-2 per-core hardware.
    public static let small = MeshSpec(
        name: "small", width: 64, height: 64, clockHz: 1.1e9, sramBytesPerCore: 48 * 1024,
        linkBytesPerCycle: 4, rampBytesPerCycle: 4, hopLatencyCycles: 1, relayLatencyCycles: 16,
        colorsPerCore: 24, macsPerCycle: 4, opOverheadCycles: 24, elementBytes: 2)

    /// Every preset by name.
    public static let presets: [String: MeshSpec] = ["wse2": wse2, "wse3": wse3, "tiny": tiny, "small": small]

    /// Preset names, sorted.
    public static var presetNames: [String] { presets.keys.sorted() }

    /// Looks a preset up by name.
    public static func preset(named name: String) throws -> MeshSpec {
        guard let s = presets[name.lowercased()] else { throw SpecError.unknownPreset(name) }
        return s
    }

    /// Decodes and validates a spec from JSON (the same keys as the stored properties).
    public static func load(json data: Data) throws -> MeshSpec {
        let spec: MeshSpec
        do {
            spec = try JSONDecoder().decode(MeshSpec.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw SpecError.invalid("missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw SpecError.invalid("wrong type at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw SpecError.invalid("not a spec JSON object")
        }
        try spec.validate()
        return spec
    }

    /// Encodes the spec as compact, key-sorted JSON.
    public func jsonData() -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? enc.encode(self)) ?? Data()
    }

    /// Parses "WxH" (also "W×H").
    public static func parseMesh(_ text: String) throws -> (width: Int, height: Int) {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else {
            throw SpecError.badMeshArgument(text)
        }
        return (w, h)
    }

    /// Resolves the common command-line options: a preset or a spec file, then an optional sub-grid.
    public static func resolve(preset: String, specFile: String?, mesh: String?) throws -> MeshSpec {
        var spec: MeshSpec
        if let path = specFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SpecError.invalid("cannot read spec file '\(path)'")
            }
            spec = try load(json: data)
        } else {
            spec = try MeshSpec.preset(named: preset)
        }
        if let m = mesh {
            let (w, h) = try parseMesh(m)
            spec = try spec.subgrid(width: w, height: h)
        }
        try spec.validate()
        return spec
    }
}
