import WaferSpec
import WaferTrace

extension MeshEngine {
    /// The head of message `m` is at router `position` at cycle `now`.
    ///
    /// Touches only that router's state: its outgoing link, its ramps and its core's mailbox.
    ///
    /// - Complexity: O(1) plus one queue push.
    @inline(__always) func hop(_ m: Int, now: Int64) {
        let ms = messages.states.base + m
        // Along a leg, past cores that take no copy: the common case, reading only the message and its link.
        if ms.pointee.hopsLeft > 0 && ms.pointee.arrivedFlags & 1 == 0 {
            forward(ms, m, now: now)
            return
        }
        let p = Int(ms.pointee.position)
        // A multicast leg delivers a copy to every core it enters (the final core is delivered below).
        if ms.pointee.arrivedFlags & 1 != 0 && !(ms.pointee.hopsLeft == 0 && ms.pointee.leg == ms.pointee.lastLeg) {
            eject(m, at: p, now: now, isFinal: false)
        }
        if ms.pointee.hopsLeft == 0 {
            let leg = Int(ms.pointee.leg)
            if leg == Int(ms.pointee.lastLeg) {
                eject(m, at: p, now: now, isFinal: true)
                messages.release(m)   // routing is done
                return
            }
            let next = routes.legs[leg + 1]
            ms.pointee.leg += 1
            ms.pointee.hopsLeft = next.hops
            ms.pointee.legInfo = next.info
            if routes.legs[leg].flags & 2 != 0 {
                // Software relay: the core takes the whole message in, then re-sends it after β.
                let w = Int64(ms.pointee.wavelets)
                let cs = cores.base + p
                let h = max(now, cs.pointee.rampOut)
                cs.pointee.rampOut = h + w
                ms.pointee.relays += 1
                ms.pointee.arrivedFlags = 0
                schedule(.relay, id: ms.pointee.key, slot: m, at: h + w - 1 + beta)
                return
            }
        }
        forward(ms, m, now: now)
    }

    /// The head takes the next link of its current leg: `s = max(now, link free)`, the link busy
    /// `[s, s + w)`, the head at the next router at `s + α`.
    @inline(__always) private func forward(_ ms: UnsafeMutablePointer<MessageState>, _ m: Int, now: Int64) {
        let p = Int(ms.pointee.position)
        let info = ms.pointee.legInfo
        let dir = Int(info & 0xFF)
        let link = p &* 4 &+ dir
        let w = Int64(ms.pointee.wavelets)
        let ls = links.base + link
        let free = linkFree(ls, link)
        let s = max(now, free)
        setLinkFree(ls, link, s &+ w, now: now)
        accumulate(ls, link: link, cycles: w, bytes: ms.pointee.bytes, queued: free - now)
        if recordsWindows {
            recorder.linkWindow(link, start: s, cycles: w)
            if logsRecords { logWindow(link, start: s, cycles: w) }
        }
        let offset: Int
        switch dir {
        case 0: offset = stepOffset.0
        case 1: offset = stepOffset.1
        case 2: offset = stepOffset.2
        default: offset = stepOffset.3
        }
        ms.pointee.position = Int32(truncatingIfNeeded: p &+ offset)
        ms.pointee.hopsLeft -= 1
        ms.pointee.hops += 1
        ms.pointee.arrivedFlags = info >> 8
        schedule(.hop, id: ms.pointee.key, slot: m, at: s + alpha)
    }

    /// The cycle link `link` (its state at `ls`) is free.
    @inline(__always) func linkFree(_ ls: UnsafeMutablePointer<LinkState>, _ link: Int) -> Int64 {
        let f = ls.pointee.free
        return f == LinkState.farLink ? farLinkCycle(link) : linkEpoch &+ Int64(f)
    }

    /// The free cycle of a far link (out of line: rare, and keeps `hop` lean).
    @inline(never) func farLinkCycle(_ link: Int) -> Int64 { farLinkFree[link]! }

    /// Makes link `link` (its state at `ls`) free at `cycle` (≥ `linkEpoch`), the run's clock at
    /// `now`.
    @inline(__always) func setLinkFree(_ ls: UnsafeMutablePointer<LinkState>, _ link: Int, _ cycle: Int64, now: Int64) {
        let offset = cycle &- linkEpoch
        if ls.pointee.free != LinkState.farLink && UInt64(bitPattern: offset) < UInt64(LinkState.farLink) {
            ls.pointee.free = UInt32(truncatingIfNeeded: offset)
        } else {
            setLinkFreeFar(ls, link, cycle, now: now)
        }
    }

    /// `setLinkFree` for a link that is or becomes far (see `farLinkFree`). When far links pile
    /// up, the epoch moves up to the earliest cycle an event can still happen at: `now` or a
    /// core's clock, whichever is earlier (a finished core starts its next run at its clock).
    /// Looking costs O(cores), so when the epoch cannot move (a core's clock stays behind) the
    /// next look waits until the far links have doubled.
    @inline(never) func setLinkFreeFar(_ ls: UnsafeMutablePointer<LinkState>, _ link: Int, _ cycle: Int64, now: Int64) {
        if ls.pointee.free == LinkState.farLink { farLinkFree[link] = nil }
        if placeLinkFree(ls, link, cycle) && farLinkFree.count >= farLinksLook {
            var earliest = now
            for c in 0..<geometry.coreCount { earliest = min(earliest, cores[c].time) }
            if earliest - linkEpoch > 1 << 30 {
                rebaseLinks(to: earliest)
                linkEpochMoved = true
            } else {
                farLinksLook = 2 * farLinkFree.count
            }
        }
    }

    /// Counts every link's free cycle from `epoch` (no later than any event still to come)
    /// instead: a link free before it becomes free at it, which changes no wait.
    ///
    /// - Complexity: O(links).
    func rebaseLinks(to epoch: Int64) {
        let oldEpoch = linkEpoch, oldFar = farLinkFree
        linkEpoch = epoch
        farLinkFree = [:]
        for l in 0..<links.count {
            let ls = links.base + l
            let f = ls.pointee.free
            let free = f == LinkState.farLink ? oldFar[l]! : oldEpoch &+ Int64(f)
            placeLinkFree(ls, l, max(epoch, free))
        }
        farLinksLook = max(1024, 2 * farLinkFree.count)
    }

    /// Writes `cycle` (≥ `linkEpoch`) into link `link`'s record (at `ls`, not holding a far
    /// cycle): near, or far in `farLinkFree`. Returns whether it went far.
    @discardableResult
    private func placeLinkFree(_ ls: UnsafeMutablePointer<LinkState>, _ link: Int, _ cycle: Int64) -> Bool {
        let offset = cycle - linkEpoch
        if offset >= 0 && offset < Int64(LinkState.farLink) {
            ls.pointee.free = UInt32(truncatingIfNeeded: offset)
            return false
        }
        ls.pointee.free = LinkState.farLink
        farLinkFree[link] = cycle
        return true
    }

    /// Adds one message's occupancy of a link to its totals (exact: 32-bit counters with carries).
    @inline(__always) private func accumulate(_ ls: UnsafeMutablePointer<LinkState>, link: Int, cycles: Int64, bytes: Int32, queued: Int64) {
        let (b, o1) = ls.pointee.busy.addingReportingOverflow(UInt32(truncatingIfNeeded: cycles))
        ls.pointee.busy = b
        let (y, o2) = ls.pointee.bytes.addingReportingOverflow(UInt32(truncatingIfNeeded: bytes))
        ls.pointee.bytes = y
        if o1 || o2 { carry(link, busy: o1, bytes: o2) }
        if queued > 0 { raisePeak(link, queued) }
        linksDirty = true
        hopsUnflushed &+= 1
    }

    /// Adds a link-window add to the log of the run being recorded (out of line: only recorded
    /// runs with link windows get here).
    @inline(never) private func logWindow(_ link: Int, start: Int64, cycles: Int64) {
        // A log past the cap (`recordCap`) or an add beyond 32 bits is dropped (the run is not kept).
        if cycles > Int64(Int32.max) || windowLog.count >= recordCap {
            if cycles <= Int64(Int32.max) { recordOverflowed = true }
            logBroken = true
            windowLog = []
            logsRecords = false
            return
        }
        windowLog.append(RecordedWindow(link: Int32(truncatingIfNeeded: link), cycles: Int32(truncatingIfNeeded: cycles), start: start - logBase))
    }

    /// A link's 32-bit busy or byte counter wrapped: keep the carry aside. Out of line, so that
    /// `hop` does not carry the dictionary's default-value closure on its common path.
    @inline(never) func carry(_ link: Int, busy: Bool, bytes: Bool) {
        if busy { linkCarries[link * 2, default: 0] &+= 1 << 32 }
        if bytes { linkCarries[link * 2 + 1, default: 0] &+= 1 << 32 }
    }

    private func raisePeak(_ link: Int, _ queued: Int64) {
        peakQueue.raise(link, to: Int32(clamping: queued))
        if recordsPeaks { peakLog.append((Int32(truncatingIfNeeded: link), Int32(clamping: queued))) }
    }

    /// A relay core re-sends a stored message through its injection ramp.
    @inline(__always) func reinject(_ m: Int, now: Int64) {
        let ms = messages.states.base + m
        let cs = cores.base + Int(ms.pointee.position)
        let w = Int64(ms.pointee.wavelets)
        let i = max(now, cs.pointee.rampIn)
        cs.pointee.rampIn = i + w
        schedule(.hop, id: ms.pointee.key, slot: m, at: i)
    }

    /// Delivers a copy of `m` into core `p` through its ejection ramp.
    ///
    /// With `runsAhead` the copy goes straight into the mailbox, marked with its tail cycle
    /// `h + w − 1`, and a core waiting for it is scheduled for that cycle: exactly what a delivery
    /// event then would do (a core's copies reach its mailbox in tail order either way, since its
    /// ejection ramp serialises them), without the event. Otherwise a delivery event follows.
    @inline(__always) private func eject(_ m: Int, at p: Int, now: Int64, isFinal: Bool) {
        let ms = messages.states.base + m
        let w = Int64(ms.pointee.wavelets)
        let cs = cores.base + p
        let h = max(now, cs.pointee.rampOut)
        cs.pointee.rampOut = h + w
        let tail = h + w - 1
        let d = deliveries.allocate()
        deliveries.states[d] = DeliveryState(key: ms.pointee.key, injection: ms.pointee.injection, head: h, tail: tail,
                                             core: Int32(p), next: -1, colour: ms.pointee.colour, bytes: ms.pointee.bytes,
                                             hops: ms.pointee.hops, relays: ms.pointee.relays, isFinal: isFinal)
        if messages.carriesPayloads {
            if taping { tapeCopy(message: m, delivery: d, core: p, isFinal: isFinal) }
            if tracksRoutes { arrivalLog.append(p << 32 | Int(ms.pointee.route)) }
            // The final copy takes the message's payload (its slot is recycled right after).
            if isFinal { swap(&deliveries.payload[d], &messages.payload[m]) } else { deliveries.payload[d] = messages.payload[m] }
        } else if let pipe = activePipeline {
            if taping { tapeCopy(message: m, delivery: d, core: p, isFinal: isFinal) }
            if tracksRoutes { arrivalLog.append(p << 32 | Int(ms.pointee.route)) }
            pipe._withUnsafeGuaranteedRef { $0.copy(message: m, delivery: d, isFinal: isFinal) }
        }
        if runsAhead {
            arrive(d, at: tail)
        } else {
            schedule(.delivery, id: ms.pointee.key, slot: d, at: tail)
        }
    }

    /// Adds a router's copy of message `m` into delivery `d` for `core` to the numerics tape.
    @inline(never) private func tapeCopy(message m: Int, delivery d: Int, core: Int, isFinal: Bool) {
        tapeAppend(NumericsPipeline.Entry(kind: isFinal ? .move : .copy, a: Int32(truncatingIfNeeded: m),
                                           b: Int32(truncatingIfNeeded: d), c: Int32(truncatingIfNeeded: core)))
    }

    /// The tail of a delivery has arrived: put it in the mailbox and wake a core waiting for it.
    @inline(__always) func deliver(_ d: Int, now: Int64) { arrive(d, at: now) }

    /// Puts delivery `d` (tail at `tail`) in its core's mailbox and wakes the core at `tail` if it
    /// waits for the colour.
    @inline(__always) private func arrive(_ d: Int, at tail: Int64) {
        let ds = deliveries.states.base + d
        let c = Int(ds.pointee.core)
        let colour = ds.pointee.colour
        makespan = max(makespan, tail)
        if ds.pointee.isFinal && runsAhead {
            recorder.countMessage(source: Int(truncatingIfNeeded: ds.pointee.key >> 40), hops: ds.pointee.hops,
                                  relays: ds.pointee.relays)
        } else if ds.pointee.isFinal {
            let key = ds.pointee.key
            recorder.message(MessageRecord(
                source: Int32(truncatingIfNeeded: key >> 40), sequence: Int32(truncatingIfNeeded: key & 0xFF_FFFF_FFFF),
                destination: Int32(c), colour: colour, bytes: ds.pointee.bytes,
                injection: ds.pointee.injection, headArrival: ds.pointee.head, tailArrival: tail,
                hops: ds.pointee.hops, relays: ds.pointee.relays))
        }
        let cs = cores.base + c
        if cs.pointee.mailTail >= 0 { deliveries.states[Int(cs.pointee.mailTail)].next = Int32(d) } else { cs.pointee.mailHead = Int32(d) }
        cs.pointee.mailTail = Int32(d)
        if cs.pointee.wait == colour {
            // Woken: exactly one core event is pending; `time` keeps the wait's start, which (for a
            // receive that blocked ahead of the clock) may be later than the tail.
            cs.pointee.wait = -3
            schedule(.core, id: UInt64(c), slot: c, at: max(tail, cs.pointee.time))
        }
    }
}
