import WaferSpec

/// SUMMA on a Py × Px grid: S = lcm(Px, Py) steps; at step s the owners of K-panel s (column
/// c(s) = s / (S/Px) for A, row r(s) = s / (S/Py) for B) multicast it along their rows and columns,
/// then every core accumulates C += A_panel · B_panel.
///
/// Critical path. The program of a core is sequential: it sends step s+1's panels only after it
/// has received and multiplied step s's. So an owner of step s+1 cannot start sending before the
/// panels of step s have reached it and it has computed: compute and communication do not
/// overlap on the owners' chain. The chain runs through the "double owner" X(s) = (r(s), c(s))
/// (the core that owns both panels): when both owners move on, the next X′ = (r+1, c+1) waits for
/// B from (r, c+1), which itself first waits for A from X:
///
///   X issues its sends (o each; A west then east, B north then south, each injected after the
///   previous leaves the ramp) → A flies 1 hop east (α + w_A − 1) → receive (o) → that core sends
///   B north then south (o each, ramp) → B flies 1 hop (α + w_B − 1) → X′ receives (o) and
///   computes (⌈mt·kp·nt / m⌉ + o).
///
/// When only one owner moves the chain has one message; when neither moves, X only sends and
/// computes. Rows and columns far from the owners receive later (the multicast's (P − 1)·α), but
/// they do not feed the owners' chain, so the full distance is paid once, at the end: the last
/// step's panels reach the farthest core (A across the row, then B down the column from the
/// B-owner that received that A).
enum SUMMAModel {
    /// A send of a panel: direction ("W", "E", "N", "S") and elements.
    typealias Send = (dir: String, elements: Int)

    /// Sends issued back to back from `start`: each costs o of issue and injects when the ramp is
    /// free. Returns the injection time of each and the issuing core's time after the last.
    static func injections(from start: CostPath, elements: [Int], p: Primitives) -> (inject: [CostPath], after: CostPath) {
        var out: [CostPath] = []
        var issue = start
        var rampFree: CostPath? = nil
        for e in elements {
            var inj = issue + p.op
            if let f = rampFree { inj = inj.joined(f) }
            out.append(inj)
            rampFree = inj + p.transfer(p.rampCycles(elements: e))
            issue = issue + p.op
        }
        return (out, issue)
    }

    static func predict(m: Int, k: Int, n: Int, cols px: Int, rows py: Int, spec: MeshSpec) -> KernelPrediction {
        let p = Primitives(spec)
        let steps = lcm(px, py)
        let mt = ceilDiv(m, py), nt = ceilDiv(n, px), kp = ceilDiv(k, steps)
        let aPanels = steps / px, bPanels = steps / py
        let eA = mt * kp, eB = kp * nt
        let local = p.compute(mt * kp * nt)

        /// Sends of a core at (row i, column j) as A-owner (west, east) and as B-owner (north, south).
        func aSends(_ j: Int) -> [Send] {
            (j > 0 ? [("W", eA)] : []) + (j < px - 1 ? [("E", eA)] : [])
        }
        func bSends(_ i: Int) -> [Send] {
            (i > 0 ? [("N", eB)] : []) + (i < py - 1 ? [("S", eB)] : [])
        }
        func injection(_ list: [Send], _ times: [CostPath], _ d: String) -> CostPath? {
            list.firstIndex { $0.dir == d }.map { times[$0] }
        }

        // T: when the double owner of step s starts issuing its sends.
        var t = CostPath.zero
        var stepCost = local
        for s in 0..<steps {
            let c = s / aPanels, r = s / bPanels
            let xs = aSends(c) + bSends(r)
            let (inj, afterSends) = injections(from: t, elements: xs.map(\.elements), p: p)
            guard s + 1 < steps else {
                t = finalStep(t: t, c: c, r: r, xs: xs, inj: inj, afterSends: afterSends, px: px, py: py,
                              eA: eA, eB: eB, local: local, aSendCount: aSends(c).count, bSends: bSends, p: p)
                break
            }
            let c2 = (s + 1) / aPanels, r2 = (s + 1) / bPanels
            var next: CostPath
            switch (c2 != c, r2 != r) {
            case (false, false):
                next = afterSends + local
            case (true, false):
                // X′ = (r, c+1): a B-owner at step s; receives A from X (1 hop east), sends its B.
                let tailA = injection(xs, inj, "E")! + p.flight(hops: 1, elements: eA)
                next = tailA + p.op + p.ops(bSends(r).count) + local
            case (false, true):
                // X′ = (r+1, c): an A-owner at step s; sends its A, receives B from X (1 hop south).
                let tailB = injection(xs, inj, "S")! + p.flight(hops: 1, elements: eB)
                next = (t + p.ops(aSends(c).count)).joined(tailB) + p.op + local
            case (true, true):
                // X′ = (r+1, c+1): B comes from (r, c+1), which first receives A from X.
                let tailAtY = injection(xs, inj, "E")! + p.flight(hops: 1, elements: eA)
                let ySends = bSends(r)
                let (yInj, _) = injections(from: tailAtY + p.op, elements: ySends.map(\.elements), p: p)
                let tailB = injection(ySends, yInj, "S")! + p.flight(hops: 1, elements: eB)
                // A comes from row r+1's A-owner, which runs about with X.
                let rowOwner = injections(from: t, elements: aSends(c).map(\.elements), p: p)
                let tailA = injection(aSends(c), rowOwner.inject, "E")! + p.flight(hops: 1, elements: eA)
                next = (tailA + p.op).joined(tailB) + p.op + local
            }
            if s == 0 { stepCost = CostPath.longest(next, local) } // the first step as the typical one
            t = next
        }
        let total = t
        let compliance = Compliance(
            coresUsed: px * py, coresInGrid: px * py, maxHops: max(px - 1, py - 1), maxRelays: 0,
            peakSramBytes: (mt * aPanels * kp + bPanels * kp * nt + mt * nt + 2 * mt * kp + 2 * kp * nt) * spec.elementBytes,
            sramBytesPerCore: spec.sramBytesPerCore,
            coloursPerCore: (px > 1 ? px : 0) + (py > 1 ? py : 0), colourLimit: spec.colorsPerCore)
        let bound = stepCost.compute + stepCost.overhead >= stepCost.communication ? "compute" : "communication"
        return KernelPrediction(kernel: "gemm", algorithm: "summa", cycles: total.total, breakdown: total,
                                steps: steps, stepCycles: stepCost.total, stepBound: bound,
                                compliance: compliance,
                                notes: ["SUMMA: panel s+1 is sent only after panel s is multiplied, so each step is compute + communication in series"])
    }

    /// The last step: the panels reach every core; the farthest corner finishes last. Its B comes
    /// from the B-owner of its column, which first has to receive A across the row from X.
    private static func finalStep(t: CostPath, c: Int, r: Int, xs: [Send], inj: [CostPath],
                                  afterSends: CostPath, px: Int, py: Int, eA: Int, eB: Int, local: CostPath,
                                  aSendCount: Int, bSends: (Int) -> [Send], p: Primitives) -> CostPath {
        func injection(_ d: String) -> CostPath? { xs.firstIndex { $0.dir == d }.map { inj[$0] } }
        var finish = afterSends + local
        for j in Set([0, px - 1]) {
            for i in Set([0, py - 1]) {
                // A at (i, j): from row i's A-owner (column c), taken to start with X.
                var ready = t + p.ops(aSendCount)
                if j != c {
                    let tail = injection(j < c ? "W" : "E")! + p.flight(hops: abs(j - c), elements: eA)
                    ready = tail + p.op
                }
                if i == r && j != c { ready = ready + p.ops(bSends(r).count) }   // a B-owner sends first
                if i != r {
                    let tailB: CostPath
                    if j == c {
                        tailB = injection(i < r ? "N" : "S")! + p.flight(hops: abs(i - r), elements: eB)
                    } else {
                        // The B-owner (r, j) receives A from X, then sends north and south.
                        let arrive = injection(j < c ? "W" : "E")! + p.flight(hops: abs(j - c), elements: eA) + p.op
                        let ySends = bSends(r)
                        let (yInj, _) = injections(from: arrive, elements: ySends.map(\.elements), p: p)
                        let idx = ySends.firstIndex { $0.dir == (i < r ? "N" : "S") }!
                        tailB = yInj[idx] + p.flight(hops: abs(i - r), elements: eB)
                    }
                    ready = ready.joined(tailB) + p.op
                }
                finish = finish.joined(ready + local)
            }
        }
        return finish
    }
}

/// Greatest common divisor and least common multiple of positive integers.
func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
