//! An executable with no `std`, no `alloc` and no allocator that runs the
//! checks of the library half and exits with their result (0 = all passed).
//!
//! Only the C library is linked: it supplies the process entry point that
//! calls `main`, and `memcpy`/`memset`, which Rust's `core` expects the
//! platform to provide.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};

#[link(name = "c")]
unsafe extern "C" {
    fn abort() -> !;
}

/// The C entry point.
#[no_mangle]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    staticnet_no_std_check::staticnet_no_std_check()
}

/// The host's prebuilt `core` was compiled for unwinding, so its cleanup
/// tables name this personality routine even though nothing here unwinds:
/// every crate is built with `panic = "abort"` and the handler below aborts,
/// so it is never called. Firmware targets ship a `core` built to abort and
/// need no such symbol.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// The only panic handler in the executable: a second one, such as std's,
/// is a build error (see the library's documentation).
#[panic_handler]
fn on_panic(_info: &core::panic::PanicInfo) -> ! {
    // SAFETY: `abort` takes nothing and never returns; it is always safe to
    // call.
    unsafe { abort() }
}
