//! Keeping the process's resident memory close to its live data.
//!
//! glibc's malloc gives each thread that allocates its own arena and keeps freed memory for
//! reuse; a DNS round of 30,000 answers or a page render frees megabytes at once, on whichever
//! worker ran it, and the arenas kept it (bench/README.md, "Memory"). An arena per core, a fixed mmap
//! threshold (large buffers come from mmap and go straight back) and a trim after each round's
//! burst keep RSS near the live heap. Elsewhere these are no-ops.
//!
//! The only module that may use `unsafe`: both calls are plain FFI into the C library.
#![allow(unsafe_code)]

/// Sets the allocator's limits, except those the environment already sets (glibc reads
/// `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_` itself, so an
/// operator's choice wins); call once, before the runtime starts its threads.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let unset = |name: &str| std::env::var_os(name).is_none();
        // One arena per core, not glibc's eight per core: memory one worker frees is mostly
        // reused rather than kept aside, and workers do not queue on one arena's lock. One
        // arena in all made every allocation contend: a cached page was served at 13,300 a
        // second with one and 19,400 with two, for 3 MB more resident (bench/README.md).
        if unset("MALLOC_ARENA_MAX") {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            set(libc::M_ARENA_MAX, cores.min(64) as libc::c_int);
        }
        // A fixed threshold: glibc otherwise raises it after each large free, and then keeps
        // large buffers in the heap, where they fragment it.
        if unset("MALLOC_MMAP_THRESHOLD_") {
            set(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
        if unset("MALLOC_TRIM_THRESHOLD_") {
            set(libc::M_TRIM_THRESHOLD, 256 * 1024);
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set(param: libc::c_int, value: libc::c_int) {
    // SAFETY: mallopt only sets an allocator parameter; it is called before other threads exist.
    if unsafe { libc::mallopt(param, value) } != 1 {
        eprintln!("crowsnest: the allocator refused parameter {param} = {value}; keeping its default");
    }
}

/// Gives freed memory back to the system; call after a burst of allocation (a DNS round).
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe and only returns free pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
