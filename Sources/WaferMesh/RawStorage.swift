/// A growable buffer of trivial values (no references inside) that its owner frees explicitly.
/// (The pools' payload references live in one too: assigned and swapped in place, and released
/// with `freeReleasingElements`; `truncate`, `removeAll` and `extend` are for trivial values only.)
///
/// The engine keeps its hot state in these instead of Swift arrays: element access compiles to a
/// plain load or store (no uniqueness check, no retain/release, no bounds check in release
/// builds), and `subscript` addresses elements in place, so `v[i].field += 1` touches one field.
/// A `RawVec` is a handle: copies alias the same memory, and exactly one owner calls `free()`.
struct RawVec<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count: Int
    private(set) var capacity: Int

    /// An empty buffer with room for `capacity` elements.
    init(capacity: Int = 16) {
        self.capacity = max(1, capacity)
        base = UnsafeMutablePointer<Element>.allocate(capacity: self.capacity)
        count = 0
    }

    /// `count` copies of `value`.
    init(repeating value: Element, count: Int) {
        self.init(capacity: count)
        base.initialize(repeating: value, count: count)
        self.count = count
    }

    /// Element `i` (unchecked in release builds).
    @inline(__always) subscript(i: Int) -> Element {
        unsafeAddress {
            assert(i >= 0 && i < count, "RawVec index \(i) out of 0..<\(count)")
            return UnsafePointer(base + i)
        }
        nonmutating unsafeMutableAddress {
            assert(i >= 0 && i < count, "RawVec index \(i) out of 0..<\(count)")
            return base + i
        }
    }

    /// - Complexity: amortised O(1).
    @inline(__always) mutating func append(_ v: Element) {
        if count == capacity { grow(to: capacity * 2) }
        (base + count).initialize(to: v)
        count += 1
    }

    /// Removes and returns the last element.
    @inline(__always) mutating func removeLast() -> Element {
        count -= 1
        return (base + count).move()
    }

    /// Keeps the first `n` elements.
    @inline(__always) mutating func truncate(to n: Int) { if n < count { count = n } }

    /// Forgets every element, keeping the memory.
    @inline(__always) mutating func removeAll() { count = 0 }

    /// Makes room for at least `n` elements (growing by doubling).
    mutating func reserve(_ n: Int) { if n > capacity { grow(to: max(n, capacity * 2)) } }

    /// Grows `count` to `n`, leaving the new elements uninitialised (trivial types only).
    mutating func extend(to n: Int) {
        reserve(n)
        if n > count { count = n }
    }

    /// Appends `n` elements copied from `source`.
    @inline(__always) mutating func append(contentsOf source: UnsafePointer<Element>, count n: Int) {
        reserve(count + n)
        (base + count).initialize(from: source, count: n)
        count += n
    }

    private mutating func grow(to newCapacity: Int) {
        let nb = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        nb.moveInitialize(from: base, count: count)
        base.deallocate()
        base = nb
        capacity = newCapacity
    }

    /// Bytes this buffer holds (its capacity).
    var allocatedBytes: Int { capacity * MemoryLayout<Element>.stride }

    /// Releases the memory; the handle must not be used afterwards.
    func free() { base.deallocate() }

    /// Releases the elements (references: a `RawVec` of array payloads), then the memory.
    func freeReleasingElements() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

/// A fixed-size, zero-initialised buffer of trivial values, owned and freed by one object.
struct RawArray<Element> {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(repeating value: Element, count: Int) {
        self.count = count
        base = UnsafeMutablePointer<Element>.allocate(capacity: max(1, count))
        base.initialize(repeating: value, count: count)
    }

    @inline(__always) subscript(i: Int) -> Element {
        unsafeAddress {
            assert(i >= 0 && i < count, "RawArray index \(i) out of 0..<\(count)")
            return UnsafePointer(base + i)
        }
        nonmutating unsafeMutableAddress {
            assert(i >= 0 && i < count, "RawArray index \(i) out of 0..<\(count)")
            return base + i
        }
    }

    var allocatedBytes: Int { count * MemoryLayout<Element>.stride }

    func free() { base.deallocate() }
}

/// Per-link peak queues (wavelets) in pages of 1024 links; a page is allocated, zeroed, when one
/// of its links first queues. Links that never queue (most of them in many kernels) cost 8 bytes
/// per 1024 of a page pointer.
struct PagedPeaks {
    static let pageBits = 10
    static let pageSize = 1 << pageBits
    private let pages: RawArray<UnsafeMutablePointer<Int32>?>
    private(set) var pageCount = 0

    init(count: Int) {
        pages = RawArray(repeating: nil, count: (count + Self.pageSize - 1) >> Self.pageBits)
    }

    /// The peak of link `i` (0 when its page was never allocated).
    @inline(__always) subscript(i: Int) -> Int32 {
        guard let p = pages[i >> Self.pageBits] else { return 0 }
        return p[i & (Self.pageSize - 1)]
    }

    /// Raises the peak of link `i` to `v` if that is higher.
    @inline(__always) mutating func raise(_ i: Int, to v: Int32) {
        let page = pages.base + (i >> Self.pageBits)
        if page.pointee == nil {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: Self.pageSize)
            p.initialize(repeating: 0, count: Self.pageSize)
            page.pointee = p
            pageCount += 1
        }
        let slot = page.pointee! + (i & (Self.pageSize - 1))
        if v > slot.pointee { slot.pointee = v }
    }

    /// Sets the peak of link `i` back to 0.
    @inline(__always) func reset(_ i: Int) {
        if let p = pages[i >> Self.pageBits] { p[i & (Self.pageSize - 1)] = 0 }
    }

    /// Bytes held: the page table and the pages allocated.
    var allocatedBytes: Int { pages.allocatedBytes + pageCount * Self.pageSize * MemoryLayout<Int32>.stride }

    func free() {
        for i in 0..<pages.count { pages[i]?.deallocate() }
        pages.free()
    }
}
