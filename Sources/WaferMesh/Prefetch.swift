@_silgen_name("llvm.prefetch.p0")
@usableFromInline func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ cache: Int32)

/// Asks the CPU to bring the cache line at `p` into the caches (a hint: no fault, no effect on results).
///
/// The engine's state for a big mesh does not fit in the caches, and events touch it in an order
/// it cannot lay out in advance; prefetching the state of the events a few places ahead in the
/// current list overlaps those misses with the work on the events before them.
@inlinable @inline(__always) func prefetch(_ p: UnsafeRawPointer) { llvmPrefetch(p, 0, 3, 1) }
