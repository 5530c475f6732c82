/// Payload slots every core of a decode grid uses.
enum DecodeSlot {
    static let acc: Int32 = 0, incoming: Int32 = 1, staging: Int32 = 2
    static let x: Int32 = 3, qkv: Int32 = 4, scores: Int32 = 5, ctx: Int32 = 6, act: Int32 = 7
    static let shiftOut: Int32 = 8, shiftIn: Int32 = 9, stats: Int32 = 10
    /// Prefill (B·L_y·E_x): the residual rows, their RMSNorm, a GEMM's C, the queries, and every
    /// layer's norm weights for the column's embedding block.
    static let hidden: Int32 = 11, normed: Int32 = 12, out: Int32 = 13, q: Int32 = 14, prefillNorms: Int32 = 15
    static let firstLayer: Int32 = 16
    static let perLayer: Int32 = 8

    static func wqkv(_ l: Int) -> Int32 { firstLayer + perLayer * Int32(l) }
    static func wo(_ l: Int) -> Int32 { wqkv(l) + 1 }
    static func wgu(_ l: Int) -> Int32 { wqkv(l) + 2 }
    static func wdown(_ l: Int) -> Int32 { wqkv(l) + 3 }
    static func attnNorm(_ l: Int) -> Int32 { wqkv(l) + 4 }
    static func ffnNorm(_ l: Int) -> Int32 { wqkv(l) + 5 }
    static func kCache(_ l: Int) -> Int32 { wqkv(l) + 6 }
    static func vCache(_ l: Int) -> Int32 { wqkv(l) + 7 }
    static func outNorm(layers: Int) -> Int32 { firstLayer + perLayer * Int32(layers) }
    static func lmHead(layers: Int) -> Int32 { outNorm(layers: layers) + 1 }
    static func count(layers: Int) -> Int { Int(lmHead(layers: layers)) + 1 }
}
