//! Integration tests over loopback sockets: our programs' logic against each
//! other, against hand-made datagrams, and against misbehaving peers. They
//! measure time (timeouts, idle gaps), so they want a machine that is not
//! overloaded: run them with `cargo test --release`. The Dockerfile runs only
//! the deterministic tests (the library's and tests/vectors).
//!
//! One crate rather than one file per area, so the build links one binary.

mod common;
mod hello;
mod receiver;
mod transfer;
