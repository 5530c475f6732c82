import WaferSpec
import WaferTrace

extension MeshEngine {
    @inline(__always) func schedule(_ kind: EventKind, id: UInt64, slot: Int, at t: Int64) {
        queue.push(Event(time: t, key: kind.key(id), slot: Int32(slot)))
    }

    @inline(__always) func reschedule(_ c: Int, at t: Int64) {
        coreTime[c] = t
        schedule(.core, id: UInt64(c), slot: c, at: t)
    }

    /// Issues `core`'s operations from cycle `now` until it blocks, advances in time, or finishes.
    ///
    /// The core continues inline only while its clock stays at `now`; any op that takes time
    /// reschedules the core, so every shared resource is claimed in global time order.
    func step<P: MeshProgram>(_ program: P, core c: Int, now: Int64) throws {
        var t = max(now, coreTime[c])
        if t > now { reschedule(c, at: t); return }
        while true {
            guard let op = program.op(core: c, pc: Int(corePC[c])) else {
                coreWaitColour[c] = -2
                coreTime[c] = t
                makespan = max(makespan, t)
                return
            }
            switch op {
            case .compute(let macs, let label, let work):
                guard macs >= 0 else { throw MeshError.badProgram("negative MAC count at core \(c)") }
                let dur = (Int64(macs) + macRate - 1) / macRate + overhead
                if let store, work >= 0 { program.execute(work: work, core: c, store: store) }
                recorder.span(Span(core: Int32(c), kind: .compute, label: label, start: t, end: t + dur, macs: Int64(macs)))
                corePC[c] += 1
                if dur > 0 { reschedule(c, at: t + dur); return }

            case .send(let r, let bytes, let buffer):
                if overhead > 0 && !coreIssued[c] {
                    coreIssued[c] = true
                    reschedule(c, at: t + overhead)
                    return
                }
                coreIssued[c] = false
                try send(core: c, route: r, bytes: bytes, buffer: buffer, at: t)
                corePC[c] += 1

            case .recv(let colour, let buffer):
                guard let d = takeMail(core: c, colour: colour) else {
                    if coreWaitColour[c] != -3 { coreWaitSince[c] = t }
                    coreWaitColour[c] = colour
                    coreTime[c] = t
                    return
                }
                if coreWaitColour[c] == -3 {
                    let since = coreWaitSince[c]
                    if t > since {
                        recorder.span(Span(core: Int32(c), kind: .wait, label: -1, start: since, end: t, macs: 0))
                    }
                }
                coreWaitColour[c] = -1
                consume(d, into: buffer)
                corePC[c] += 1
                if overhead > 0 { reschedule(c, at: t + overhead); return }

            case .waitSends:
                corePC[c] += 1
                if rampIn[c] > t { t = rampIn[c]; reschedule(c, at: t); return }

            case .alloc(let label, let bytes):
                guard bytes >= 0 else { throw MeshError.badProgram("negative allocation at core \(c)") }
                ledger.push(core: c, label: label, bytes: bytes)
                sramNow[c] += Int32(clamping: bytes)
                if sramNow[c] > sramPeak[c] { sramPeak[c] = sramNow[c] }
                if Int(sramNow[c]) > spec.sramBytesPerCore { try memoryViolation(core: c) }
                corePC[c] += 1

            case .free(let label):
                guard let b = ledger.pop(core: c, label: label) else {
                    throw MeshError.badProgram("core \(c) frees '\(recorder.labelName(label))', which it never allocated")
                }
                sramNow[c] -= Int32(b)
                corePC[c] += 1

            case .nop:
                corePC[c] += 1

            case .begin(let inv):
                invocationStart[c] = t
                invocationFirst[Int(inv)] = min(invocationFirst[Int(inv)], t)
                corePC[c] += 1

            case .end(let inv):
                invocationLast[Int(inv)] = max(invocationLast[Int(inv)], t)
                recorder.span(Span(core: Int32(c), kind: .kernel, label: invocationLabel[Int(inv)],
                                   start: invocationStart[c], end: t, macs: 0))
                corePC[c] += 1
            }
        }
    }

    private func memoryViolation(core c: Int) throws {
        let live = ledger.live(core: c)
        let text = live.map { "\(recorder.labelName($0.label)) \($0.bytes) B" }.joined(separator: ", ")
        try violate(Violation(kind: .memory, core: Int32(c), value: Int64(sramNow[c]),
                              limit: Int64(spec.sramBytesPerCore),
                              detail: "at (\(geometry.x(of: c)),\(geometry.y(of: c))): \(text)"))
    }

    /// Starts a message: claims the injection ramp and puts the head at the source router.
    private func send(core c: Int, route r: Int32, bytes: Int, buffer: Int32, at t: Int64) throws {
        guard r >= 0, Int(r) < routes.count else { throw MeshError.badProgram("core \(c) sends on undeclared route \(r)") }
        guard Int(routes.source[Int(r)]) == c else {
            throw MeshError.badProgram("core \(c) sends on route \(r), which starts at core \(routes.source[Int(r)])")
        }
        guard bytes > 0 else { throw MeshError.badProgram("core \(c) sends an empty message") }
        let w = Int64(spec.rampCycles(bytes: bytes))
        let inj = max(t, rampIn[c])
        rampIn[c] = inj + w
        let m = messages.allocate()
        let seq = coreSeq[c]
        coreSeq[c] += 1
        messages.key[m] = UInt64(c) << 40 | UInt64(seq)
        messages.route[m] = r
        messages.leg[m] = routes.firstLeg[Int(r)]
        messages.hopsLeft[m] = routes.legHops[Int(routes.firstLeg[Int(r)])]
        messages.position[m] = Int32(c)
        messages.arrivedLeg[m] = -1
        messages.wavelets[m] = Int32(spec.linkCycles(bytes: bytes))
        messages.bytes[m] = Int32(clamping: bytes)
        messages.injection[m] = inj
        messages.hops[m] = 0
        messages.relays[m] = 0
        messages.references[m] = 1
        if let store, buffer >= 0 { messages.payload[m] = store[c, buffer] }
        recorder.span(Span(core: Int32(c), kind: .send, label: -1, start: inj, end: inj + w, macs: 0))
        schedule(.hop, id: messages.key[m], slot: m, at: inj)
    }

    /// Removes and returns the oldest delivered message on `colour` in `core`'s mailbox.
    private func takeMail(core c: Int, colour: Int32) -> Int? {
        var prev: Int32 = -1
        var d = mailHead[c]
        while d >= 0 {
            let m = Int(deliveries.message[Int(d)])
            if routes.colour[Int(messages.route[m])] == colour {
                let nxt = deliveries.next[Int(d)]
                if prev < 0 { mailHead[c] = nxt } else { deliveries.next[Int(prev)] = nxt }
                if mailTail[c] == d { mailTail[c] = prev }
                return Int(d)
            }
            prev = d
            d = deliveries.next[Int(d)]
        }
        return nil
    }

    private func consume(_ d: Int, into buffer: Int32) {
        let m = Int(deliveries.message[d])
        if let store, buffer >= 0 { store[Int(deliveries.core[d]), buffer] = messages.payload[m] }
        deliveries.recycle(d)
        messages.release(m)
    }
}
