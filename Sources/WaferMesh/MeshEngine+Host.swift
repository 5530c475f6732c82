extension MeshEngine {
    /// Holds `cores` until cycle `t`: none of them issues another op before it.
    ///
    /// Models host I/O between runs — e.g. the host reading a step's logits and writing the next
    /// token's embedding — which the mesh programs themselves do not carry.
    public func hold<S: Sequence>(_ cores: S, until t: Int64) where S.Element == Int {
        for c in cores { self.cores[c].time = max(self.cores[c].time, t) }
    }

    /// Drops every kept replay record (`replaysRuns`): for a caller that knows no run before now
    /// will recur, such as a decoder starting a step (its KV rows make every key new), so that a
    /// long run holds no records nothing will replay.
    public func forgetReplays() { replayCache.forgetAll() }
}
