import Foundation

/// A small sweep CSV in the format the sweep command writes.
enum SampleSweep {
    /// Three algorithms on 4…64-sided meshes; predictions within about ±15 %.
    static let csv: String = {
        var lines = ["kernel,algo,side,m,k,n,predicted_cycles,measured_cycles"]
        let algos: [(String, Double, Double)] = [("cannon", 900, 1.0), ("summa", 1300, 1.1), ("ring", 600, 1.6)]
        for (i, (algo, base, exponent)) in algos.enumerated() {
            for (j, side) in [4, 8, 16, 32, 64].enumerated() {
                let measured = (base * pow(Double(side), exponent)).rounded()
                let wobble = [0.93, 1.04, 1.12, 0.97, 1.02][(i + j) % 5]
                let predicted = i == 2 && j == 4 ? "" : String(Int((measured * wobble).rounded()))
                lines.append("meshgemm,\(algo),\(side),\(side * 8),\(side * 8),\(side * 8),\(predicted),\(Int(measured))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }()
}
