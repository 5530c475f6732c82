import XCTest
@testable import WaferLLM
import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

final class KVCapacityTests: XCTestCase {
    /// The analytic capacity is exactly where a timing-only run hits its first PLMR-M violation.
    func testCapacityIsWhereTheRunFirstOverflows() throws {
        var spec = decoderSpec(3, 4)
        spec.sramBytesPerCore = 4000
        let layout = try DecodeLayout(config: tinyConfig, cols: 3, rows: 4)
        let cap = KVCapacity(layout: layout, spec: spec)
        var measured: [KVPolicy: Int] = [:]
        for policy in KVPolicy.allCases {
            let expected = cap.maxTokens(policy).maxTokens
            XCTAssertGreaterThan(expected, 0)
            let (decoder, _) = try makeDecoder(spec, config: tinyConfig, weights: nil, policy: policy)
            var ran = 0
            do {
                while ran < expected + 5 {
                    try decoder.step(token: 1, phase: "decode")
                    ran += 1
                }
                XCTFail("\(policy): no violation after \(ran) tokens")
            } catch let e as MeshError {
                XCTAssertTrue("\(e)".contains("PLMR-M"), "\(e)")
            }
            XCTAssertEqual(ran, expected, "\(policy)")
            measured[policy] = ran
        }
        XCTAssertGreaterThan(measured[.shift]!, 3 * measured[.concat]!, "the shift cache uses every row")
    }

    func testSmolLM2On96x96HoldsHundredsOfTimesMoreContextWithShift() throws {
        let spec = try MeshSpec.wse2.subgrid(width: 96, height: 96)
        let layout = try DecodeLayout(config: .smolLM2_135M, cols: 96, rows: 96)
        let cap = KVCapacity(layout: layout, spec: spec)
        let shift = cap.maxTokens(.shift).maxTokens, concat = cap.maxTokens(.concat).maxTokens
        XCTAssertGreaterThan(concat, 0)
        XCTAssertGreaterThanOrEqual(shift, 90 * concat, "about one row's worth per row: ×rows")
    }
}
