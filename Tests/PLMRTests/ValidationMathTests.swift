import Foundation
import PLMR
import XCTest

final class ValidationMathTests: XCTestCase {
    func row(_ p: Int?, _ m: Int, phase: String? = nil) -> ValidationRow {
        ValidationRow(name: "k", kernel: "gemm", algorithm: "meshgemm", shape: "", grid: "", phase: phase,
                      predicted: p, measured: m)
    }

    func testStatisticsOnHandMadeRows() throws {
        // Errors: +10 %, −20 %, 0 %, +5 %.
        let rows = [row(110, 100), row(80, 100), row(50, 50), row(210, 200)]
        let s = try XCTUnwrap(Validation.stats(rows))
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.mape, (10 + 20 + 0 + 5) / 4, accuracy: 1e-9)
        XCTAssertEqual(s.maxError, 20, accuracy: 1e-9)
        XCTAssertEqual(s.bias, (10 - 20 + 0 + 5) / 4, accuracy: 1e-9)
        // exp(mean log(1 + |e|)) − 1 = (1.1 · 1.2 · 1.0 · 1.05)^(1/4) − 1.
        XCTAssertEqual(s.geomeanError, 100 * (pow(1.1 * 1.2 * 1.0 * 1.05, 0.25) - 1), accuracy: 1e-9)
        XCTAssertLessThan(s.geomeanError, s.mape, "the geometric mean weighs the large miss less")
    }

    func testRowsWithoutAModelOrAMeasurementAreLeftOut() throws {
        let rows = [row(nil, 100), row(100, 0), row(150, 100)]
        XCTAssertNil(rows[0].errorPercent)
        XCTAssertNil(rows[1].errorPercent)
        let s = try XCTUnwrap(Validation.stats(rows))
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s.mape, 50, accuracy: 1e-12)
        XCTAssertEqual(s.geomeanError, 50, accuracy: 1e-9)
        XCTAssertNil(Validation.stats([row(nil, 5)]))
        XCTAssertNil(Validation.stats([]))
    }

    func testToleranceDecision() {
        let rows = [row(104, 100), row(93, 100), row(nil, 100)]
        XCTAssertTrue(Validation.passes(rows, tolerancePercent: 7))
        XCTAssertTrue(Validation.passes(rows, tolerancePercent: 7.0000001))
        XCTAssertFalse(Validation.passes(rows, tolerancePercent: 6.99))
        XCTAssertEqual(Validation.outside(rows, tolerancePercent: 5).map(\.predicted), [93])
        XCTAssertEqual(Validation.outside(rows, tolerancePercent: 3).count, 2)
        XCTAssertTrue(Validation.passes([row(nil, 1)], tolerancePercent: 0), "rows without a model never fail")
    }

    func testPhaseTotalsKeepOrderAndCountOnlyModelledMarks() {
        let rows = [row(100, 110, phase: "prefill"), row(nil, 40, phase: "decode"), row(50, 40, phase: "decode"),
                    row(20, 10, phase: "prefill"), row(7, 7)]
        let t = Validation.phaseTotals(rows)
        XCTAssertEqual(t.map(\.phase), ["prefill", "decode"])
        XCTAssertEqual(t[0].predicted, 120)
        XCTAssertEqual(t[0].measured, 120)
        XCTAssertEqual(t[0].errorPercent ?? .nan, 0, accuracy: 1e-12)
        XCTAssertEqual(t[1].predicted, 50)
        XCTAssertEqual(t[1].measured, 40)
        XCTAssertEqual(t[1].marks, 2)
        XCTAssertEqual(t[1].modelled, 1)
        XCTAssertEqual(t[1].errorPercent ?? .nan, 25, accuracy: 1e-12)
    }
}
