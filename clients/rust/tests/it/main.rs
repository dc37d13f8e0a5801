//! Integration tests, in one crate so that the build links one test binary
//! instead of one per file (linking dominates the build on the base image).
//! Run them with `cargo test`; the Dockerfile runs them at every build.

mod common;
mod hello;
mod json;
mod receiver;
mod transfer;
mod vectors;
