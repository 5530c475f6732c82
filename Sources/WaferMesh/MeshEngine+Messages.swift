import WaferSpec
import WaferTrace

extension MeshEngine {
    /// The head of message `m` is at router `messages.position[m]` at cycle `now`.
    ///
    /// Touches only that router's state: its outgoing link, its ramps and its core's mailbox.
    ///
    /// - Complexity: O(1) plus one heap push.
    func hop(_ m: Int, now: Int64) throws {
        let p = Int(messages.position[m])
        let r = Int(messages.route[m])
        let lastLeg = routes.legEnd[r] - 1
        let arrived = messages.arrivedLeg[m]
        // A multicast leg delivers a copy to every core it enters (the final core is delivered below).
        if arrived >= 0 && routes.legFlags[Int(arrived)] & 1 != 0
            && !(messages.hopsLeft[m] == 0 && messages.leg[m] == lastLeg) {
            eject(m, at: p, now: now, isFinal: false)
        }
        if messages.hopsLeft[m] == 0 {
            let leg = Int(messages.leg[m])
            if leg == lastLeg {
                eject(m, at: p, now: now, isFinal: true)
                messages.release(m)   // routing is done
                return
            }
            messages.leg[m] += 1
            messages.hopsLeft[m] = routes.legHops[leg + 1]
            if routes.legFlags[leg] & 2 != 0 {
                // Software relay: the core takes the whole message in, then re-sends it after β.
                let w = Int64(messages.wavelets[m])
                let h = max(now, rampOut[p])
                rampOut[p] = h + w
                messages.relays[m] += 1
                messages.arrivedLeg[m] = -1
                schedule(.relay, id: messages.key[m], slot: m, at: h + w - 1 + beta)
                return
            }
        }
        let leg = Int(messages.leg[m])
        let dir = Int(routes.legDirection[leg])
        let link = p &* 4 &+ dir
        let w = Int64(messages.wavelets[m])
        let free = linkFree[link]
        let s = max(now, free)
        linkFree[link] = s + w
        recorder.linkBusy(link, start: s, cycles: w, bytes: Int64(messages.bytes[m]), queued: max(0, free - now))
        let step = Direction(rawValue: dir)!.step
        messages.position[m] = Int32(p + step.dx + step.dy * geometry.width)
        messages.hopsLeft[m] -= 1
        messages.hops[m] += 1
        messages.arrivedLeg[m] = Int32(leg)
        schedule(.hop, id: messages.key[m], slot: m, at: s + alpha)
    }

    /// A relay core re-sends a stored message through its injection ramp.
    func reinject(_ m: Int, now: Int64) {
        let p = Int(messages.position[m])
        let w = Int64(messages.wavelets[m])
        let i = max(now, rampIn[p])
        rampIn[p] = i + w
        schedule(.hop, id: messages.key[m], slot: m, at: i)
    }

    /// Delivers a copy of `m` into core `p` through its ejection ramp.
    private func eject(_ m: Int, at p: Int, now: Int64, isFinal: Bool) {
        let w = Int64(messages.wavelets[m])
        let h = max(now, rampOut[p])
        rampOut[p] = h + w
        let d = deliveries.allocate()
        deliveries.message[d] = Int32(m)
        deliveries.core[d] = Int32(p)
        deliveries.head[d] = h
        deliveries.tail[d] = h + w - 1
        deliveries.next[d] = -1
        deliveries.isFinal[d] = isFinal
        messages.references[m] += 1
        schedule(.delivery, id: messages.key[m], slot: d, at: h + w - 1)
    }

    /// The tail of a delivery has arrived: put it in the mailbox and wake a core waiting for it.
    func deliver(_ d: Int, now: Int64) {
        let m = Int(deliveries.message[d])
        let c = Int(deliveries.core[d])
        let colour = routes.colour[Int(messages.route[m])]
        makespan = max(makespan, now)
        if deliveries.isFinal[d] {
            let key = messages.key[m]
            recorder.message(MessageRecord(
                source: Int32(key >> 40), sequence: Int32(truncatingIfNeeded: key & 0xFF_FFFF_FFFF),
                destination: Int32(c), colour: colour, bytes: messages.bytes[m],
                injection: messages.injection[m], headArrival: deliveries.head[d], tailArrival: now,
                hops: messages.hops[m], relays: messages.relays[m]))
        }
        if mailTail[c] >= 0 { deliveries.next[Int(mailTail[c])] = Int32(d) } else { mailHead[c] = Int32(d) }
        mailTail[c] = Int32(d)
        if coreWaitColour[c] == colour {
            coreWaitColour[c] = -3   // woken: exactly one core event is pending
            reschedule(c, at: now)
        }
    }
}
