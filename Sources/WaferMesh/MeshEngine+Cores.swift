import WaferSpec
import WaferTrace

extension MeshEngine {
    @inline(__always) func schedule(_ kind: EventKind, id: UInt64, slot: Int, at t: Int64) {
        queue.push(time: t, Event(key: kind.key(id), slot: Int32(truncatingIfNeeded: slot)))
    }

    @inline(__always) func reschedule(_ c: Int, at t: Int64) {
        cores[c].time = t
        schedule(.core, id: UInt64(c), slot: c, at: t)
    }

    /// Issues `core`'s operations from cycle `now` until it blocks, advances in time, or finishes.
    ///
    /// Ops that touch shared state (a send's injection, a receive, `waitSends`, a kernel mark)
    /// run only at their own cycle, so every shared resource is claimed in global time order.
    /// When the trace keeps no per-event spans (`kernel` and `summary` detail) the core runs on
    /// ahead of the clock through ops that touch nothing but its own state — compute (and its
    /// arithmetic on its own buffers), a send's issue overhead, allocations within budget, frees,
    /// `begin`, `nop`, finishing — and is rescheduled at the first shared op: the same state and
    /// trace as stepping op by op, with fewer events.
    ///
    /// Receives, `waitSends` and `end` run ahead too when that provably changes nothing. A receive
    /// takes its mail ahead only when the oldest copy on its colour is in the mailbox with its tail
    /// arrived by then: copies still to come queue behind it, so a receive at
    /// its own cycle would take the same one. A receive whose copy is not in (or not whole) by its
    /// cycle `t` blocks ahead of the clock, waiting from `t`: the copy that wakes it wakes it at its
    /// tail but no earlier than `t` (`arrive`), the cycle a core event at `t` would have found it
    /// in the mailbox, so that event is not needed. `waitSends` (`waitSendsAhead`: no route relays,
    /// so only the core's own sends, all issued already, claim its injection ramp) jumps to the
    /// cycle the ramp is free; `end` (`endsAhead`) runs ahead when the recorder keeps no kernel
    /// spans. With full detail every op that takes time is its own event, so spans are recorded in
    /// global time order.
    ///
    /// - Complexity: O(1) per op issued (a receive scans the core's mailbox).
    func step<P: MeshProgram>(_ program: P, core c: Int, now: Int64) throws {
        let cs = cores.base + c
        var t = max(now, cs.pointee.time)
        if t > now { reschedule(c, at: t); return }
        let fuse = runsAhead
        while true {
            guard let op = program.op(core: c, pc: Int(cs.pointee.pc)) else {
                cs.pointee.wait = -2
                cs.pointee.time = t
                makespan = max(makespan, t)
                return
            }
            // Ahead of the clock (only with `fuse`): shared ops wait for their own event.
            let ahead = t > now
            switch op {
            case .compute(let macs, let label, let work):
                guard macs >= 0 else {
                    if ahead { reschedule(c, at: t); return }
                    throw MeshError.badProgram("negative MAC count at core \(c)")
                }
                let dur = macCycles(Int64(macs)) + overhead
                if work >= 0 {
                    if let p = activePipeline {
                        if taping { tapeEntry(.work, c, work, 0) }
                        p._withUnsafeGuaranteedRef { $0.work(core: c, work: work) }
                    } else if let store {
                        if taping { tapeEntry(.work, c, work, 0) }
                        program.execute(work: work, core: c, store: store)
                    }
                }
                if runsAhead {
                    recorder.countCompute(core: c, cycles: dur, macs: Int64(macs))
                } else {
                    recorder.span(Span(core: Int32(c), kind: .compute, label: label, start: t, end: t + dur, macs: Int64(macs)))
                }
                cs.pointee.pc += 1
                if dur > 0 {
                    if fuse { t += dur; continue }
                    reschedule(c, at: t + dur); return
                }

            case .send(let r, let bytes, let buffer):
                if overhead > 0 && cs.pointee.wait > -4 {
                    // The issue overhead is paid; the message starts at the core's next visit, in its
                    // own cycle (a shared op). The route is kept in the state for prefetching.
                    cs.pointee.wait = r >= 0 && r < Int32.max - 8 ? -4 - r : -4
                    reschedule(c, at: t + overhead)
                    return
                }
                if ahead { reschedule(c, at: t); return }
                cs.pointee.wait = -1
                try send(core: c, route: r, bytes: bytes, buffer: buffer, at: t)
                cs.pointee.pc += 1

            case .recv(let colour, let buffer):
                let (d, ready) = takeMail(core: c, colour: colour, at: t)
                guard d >= 0 else {
                    // Blocked, ahead of the clock or not: `time` keeps the cycle the wait started (a
                    // woken core always finds its mail; `arrive` wakes it no earlier than that cycle).
                    if cs.pointee.wait != -3 { cs.pointee.time = t }
                    if ready >= 0 {
                        // A matching copy is in the mailbox, its tail still on the way: wake at its arrival.
                        cs.pointee.wait = -3
                        schedule(.core, id: UInt64(c), slot: c, at: ready)
                    } else {
                        cs.pointee.wait = colour
                    }
                    return
                }
                if cs.pointee.wait == -3 {
                    let since = cs.pointee.time
                    if t > since {
                        if runsAhead {
                            recorder.countWait(core: c, cycles: t - since)
                        } else {
                            recorder.span(Span(core: Int32(c), kind: .wait, label: -1, start: since, end: t, macs: 0))
                        }
                    }
                    cs.pointee.time = t
                }
                cs.pointee.wait = -1
                consume(d, into: buffer)
                cs.pointee.pc += 1
                if overhead > 0 {
                    if fuse { t += overhead; continue }
                    reschedule(c, at: t + overhead); return
                }

            case .waitSends:
                if ahead && !waitSendsAhead { reschedule(c, at: t); return }
                cs.pointee.pc += 1
                if cs.pointee.rampIn > t {
                    if waitSendsAhead { t = cs.pointee.rampIn; continue }
                    reschedule(c, at: cs.pointee.rampIn); return
                }

            case .alloc(let label, let bytes):
                if ahead && (bytes < 0 || Int(cs.pointee.sramNow) + bytes > sramLimit) { reschedule(c, at: t); return }
                guard bytes >= 0 else { throw MeshError.badProgram("negative allocation at core \(c)") }
                cs.pointee.ledger = ledger.push(head: cs.pointee.ledger, label: label, bytes: bytes)
                if recordsPeaks { watchPush(cs.pointee.ledger) }
                cs.pointee.sramNow += Int32(clamping: bytes)
                if cs.pointee.sramNow > cs.pointee.sramPeak { cs.pointee.sramPeak = cs.pointee.sramNow }
                if Int(cs.pointee.sramNow) > sramLimit { try memoryViolation(core: c) }
                cs.pointee.pc += 1

            case .free(let label):
                guard let (b, entry) = ledger.pop(head: &cs.pointee.ledger, label: label) else {
                    if ahead { reschedule(c, at: t); return }
                    throw MeshError.badProgram("core \(c) frees '\(recorder.labelName(label))', which it never allocated")
                }
                if recordsPeaks { watchPop(entry) }
                cs.pointee.sramNow -= Int32(b)
                cs.pointee.pc += 1

            case .nop:
                cs.pointee.pc += 1

            case .begin(let inv):
                cs.pointee.invocationStart = t
                if logsRecords { begunInRun[c] = true }
                invocationFirst[Int(inv)] = min(invocationFirst[Int(inv)], t)
                cs.pointee.pc += 1

            case .end(let inv):
                if ahead && !endsAhead { reschedule(c, at: t); return }
                invocationLast[Int(inv)] = max(invocationLast[Int(inv)], t)
                // A kernel span adds to no total: only a recorder that keeps records wants it.
                if recorder.keepsRecords {
                    recorder.span(Span(core: Int32(c), kind: .kernel, label: invocationLabel[Int(inv)],
                                       start: cs.pointee.invocationStart, end: t, macs: 0))
                    if logsRecords { logSpan(core: c, invocation: inv, start: cs.pointee.invocationStart, end: t) }
                }
                cs.pointee.pc += 1
            }
        }
    }

    private func memoryViolation(core c: Int) throws {
        let live = ledger.live(head: cores[c].ledger)
        let text = live.map { "\(recorder.labelName($0.label)) \($0.bytes) B" }.joined(separator: ", ")
        try violate(Violation(kind: .memory, core: Int32(c), value: Int64(cores[c].sramNow),
                              limit: Int64(spec.sramBytesPerCore),
                              detail: "at (\(geometry.x(of: c)),\(geometry.y(of: c))): \(text)"))
    }

    /// Starts a message: claims the injection ramp and puts the head at the source router.
    ///
    /// - Complexity: O(1).
    private func send(core c: Int, route r: Int32, bytes: Int, buffer: Int32, at t: Int64) throws {
        guard r >= 0, Int(r) < routes.count else { throw MeshError.badProgram("core \(c) sends on undeclared route \(r)") }
        let route = routes.routes[Int(r)]
        guard Int(route.source) == c else {
            throw MeshError.badProgram("core \(c) sends on route \(r), which starts at core \(route.source)")
        }
        guard bytes > 0 else { throw MeshError.badProgram("core \(c) sends an empty message") }
        let cs = cores.base + c
        let w = max(1, rampWavelets(Int64(bytes)))
        let inj = max(t, cs.pointee.rampIn)
        cs.pointee.rampIn = inj + w
        let m = messages.allocate()
        let seq = cs.pointee.sequence
        cs.pointee.sequence += 1
        let key = UInt64(c) << 40 | UInt64(seq)
        messages.states[m] = MessageState(
            key: key, injection: inj, route: r, leg: route.firstLeg, lastLeg: route.legEnd - 1,
            hopsLeft: route.firstHops, position: Int32(c), arrivedFlags: 0,
            wavelets: Int32(clamping: max(1, linkWavelets(Int64(bytes)))),
            bytes: Int32(clamping: bytes), hops: 0, relays: 0, colour: route.colour, legInfo: route.firstInfo)
        if buffer >= 0 {
            if let p = activePipeline {
                if taping { tapeEntry(.snapshot, c, buffer, Int32(truncatingIfNeeded: m)) }
                p._withUnsafeGuaranteedRef { $0.snapshot(core: c, buffer: buffer, message: m) }
            } else if let store {
                if taping { tapeEntry(.snapshot, c, buffer, Int32(truncatingIfNeeded: m)) }
                messages.payload[m] = store[c, buffer]
            }
        }
        counts.messages += 1
        // A send span adds to no total: only full detail records it.
        if !runsAhead { recorder.span(Span(core: Int32(c), kind: .send, label: -1, start: inj, end: inj + w, macs: 0)) }
        if inj == t && runsAhead {
            // The head is at the source router now. Its hop event would be the next one popped
            // (a hop in the current cycle goes before every core event left), and nothing the core
            // does for the rest of this step touches links: take the first link here, one event fewer.
            counts.hopEvents += 1
            hop(m, now: t)
        } else {
            schedule(.hop, id: key, slot: m, at: inj)
        }
    }

    /// Removes the oldest delivered message on `colour` in `core`'s mailbox at cycle `t`.
    ///
    /// - Returns: (delivery, -1); or (-1, tail cycle) when the oldest copy on `colour` has not
    ///   fully arrived yet (only when copies are mailed at their head's delivery: a core's copies
    ///   arrive in mailbox order, so no later one has either); or (-1, -1) when there is none.
    /// - Complexity: O(messages waiting in the mailbox).
    @inline(__always) private func takeMail(core c: Int, colour: Int32, at t: Int64) -> (Int, Int64) {
        let cs = cores.base + c
        var prev: Int32 = -1
        var d = cs.pointee.mailHead
        while d >= 0 {
            let ds = deliveries.states.base + Int(d)
            if ds.pointee.colour == colour {
                if ds.pointee.tail > t { return (-1, ds.pointee.tail) }
                let nxt = ds.pointee.next
                if prev < 0 { cs.pointee.mailHead = nxt } else { deliveries.states[Int(prev)].next = nxt }
                if cs.pointee.mailTail == d { cs.pointee.mailTail = prev }
                return (Int(d), -1)
            }
            prev = d
            d = ds.pointee.next
        }
        return (-1, -1)
    }

    @inline(__always) private func consume(_ d: Int, into buffer: Int32) {
        if let p = activePipeline {
            let c = Int(deliveries.states[d].core)
            if taping { tapeConsume(delivery: d, buffer: buffer) }
            p._withUnsafeGuaranteedRef { $0.consume(delivery: d, core: c, buffer: buffer) }
        } else if let store {
            if taping { tapeConsume(delivery: d, buffer: buffer) }
            if buffer >= 0 { swap(&store[Int(deliveries.states[d].core), buffer], &deliveries.payload[d]) }
        }
        deliveries.release(d)
    }

    /// Adds a receive's store of delivery `d` into `buffer` to the numerics tape.
    @inline(never) private func tapeConsume(delivery d: Int, buffer: Int32) {
        tapeAppend(NumericsPipeline.Entry(kind: .consume, a: Int32(truncatingIfNeeded: d), b: deliveries.states[d].core, c: buffer))
    }

    /// Adds a work or a snapshot of core `core` to the numerics tape (out of line: only recorded
    /// runs with numerics get here).
    @inline(never) private func tapeEntry(_ kind: NumericsPipeline.Kind, _ core: Int, _ b: Int32, _ c: Int32) {
        tapeAppend(NumericsPipeline.Entry(kind: kind, a: Int32(truncatingIfNeeded: core), b: b, c: c))
    }

    /// Adds a kernel span to the log of the run being recorded (out of line: only recorded runs
    /// with kept records get here).
    @inline(never) private func logSpan(core c: Int, invocation inv: Int32, start: Int64, end: Int64) {
        let k = Int(inv) < invocationPosition.count ? invocationPosition[Int(inv)] : -1
        // An invocation the program does not list, or a span begun before the run (its start
        // would not move with the run's).
        if k < 0 || !begunInRun[c] { logBroken = true; return }
        spanLog.append(RecordedSpan(core: Int32(c), position: k, start: start - logBase, end: end - logBase))
    }
}
