//! Hello Internet and RUDP for the interop conformance suite, in Rust with the
//! standard library only. The four programs in `src/bin/` are thin wrappers
//! around these modules; requirement numbers (HELLO-n, RUDP-n) refer to
//! `spec/hello.md` and `spec/rudp.md` in the suite's repository.

pub mod cli;
pub mod crc32;
pub mod hello;
pub mod net;
pub mod packet;
pub mod receiver;
pub mod rto;
pub mod sender;

/// `debug!(on, "format", args...)` prints to stderr when `on` is true (flag `-d`).
#[macro_export]
macro_rules! debug {
    ($on:expr, $($arg:tt)*) => {
        if $on {
            eprintln!($($arg)*);
        }
    };
}
