//! The suite's shared test vectors (spec/vectors/*.json in the suite's
//! repository), copied into this folder because the image is built from
//! clients/rust alone. Refresh them with
//! `cp ../../spec/vectors/{datagrams,receiver}.json tests/vectors/`.
//!
//! Deterministic (no sockets, no clock: the receiver is handed the time), so
//! the Dockerfile runs these at every build.

mod json;

use interop_rust::packet::{self, Kind, ParseError};
use interop_rust::receiver::{Config, Receiver};
use json::Json;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fresh, empty directory for one vector's output files.
fn scratch_dir(vector: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("interop-rust-vectors-{}-{vector}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn load(name: &str) -> Json {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    json::parse(&fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The vectors' name for each kind of parse error.
fn error_name(e: ParseError) -> &'static str {
    match e {
        ParseError::TooLong => "too_long",
        ParseError::Malformed(_) => "malformed",
        ParseError::BadChecksum => "checksum",
        ParseError::UnknownType => "type",
        ParseError::BadSeqno => "seqno",
        ParseError::BadSackList => "sack",
    }
}

#[test]
fn datagram_vectors() {
    let vectors = load("datagrams.json");
    let mut checked = 0;
    for v in vectors.get("vectors").array() {
        let name = v.get("name").str();
        let wire = v.get("datagram").bytes();
        match (packet::parse(&wire), v.get("valid") == &Json::Bool(true)) {
            (Ok(p), true) => {
                let want = v.get("packet");
                assert_eq!(p.kind.as_str(), want.get("type").str(), "{name}: type");
                assert_eq!(p.seq.to_string(), want.get("seqno").str(), "{name}: seqno");
                if !want.get("data").is_null() {
                    assert_eq!(p.data, want.get("data").bytes(), "{name}: data");
                }
                let sacks: Vec<String> = want.get("sacks").array().iter().map(|s| s.str().to_string()).collect();
                assert_eq!(p.sacks.iter().map(u64::to_string).collect::<Vec<_>>(), sacks, "{name}: sacks");
                // Canonical datagrams are exactly what our encoder produces.
                if v.get("canonical") == &Json::Bool(true) {
                    let encoded = match p.kind {
                        Kind::Ack => packet::encode_ack(p.seq, None),
                        Kind::Sack => packet::encode_ack(p.seq, Some(&p.sacks)),
                        kind => packet::encode_segment(kind, p.seq, &p.data),
                    };
                    assert_eq!(encoded, wire, "{name}: encoding");
                }
            }
            (Err(e), false) => assert_eq!(error_name(e), v.get("error").str(), "{name}: error ({e})"),
            (Ok(p), false) => panic!("{name}: accepted an invalid datagram as {p:?}"),
            (Err(e), true) => panic!("{name}: rejected a valid datagram: {e}"),
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} datagram vectors: is the file complete?");
}

#[test]
fn receiver_vectors() {
    let vectors = load("receiver.json");
    let mut checked = 0;
    for (n, v) in vectors.get("vectors").array().iter().enumerate() {
        let name = v.get("name").str();
        let timeout_ms = match v.get("idle_timeout_ms") {
            Json::Number(ms) => *ms as u64,
            other => panic!("{name}: idle_timeout_ms {other:?}"),
        };
        let outdir = scratch_dir(n);
        let config = Config {
            timeout: Duration::from_millis(timeout_ms),
            sack: v.get("sack") == &Json::Bool(true),
            debug: false,
            outdir: outdir.clone(),
        };
        let mut receiver = Receiver::new(config);
        let t0 = Instant::now();
        for (i, step) in v.get("steps").array().iter().enumerate() {
            let at = match step.get("at_ms") {
                Json::Number(ms) => t0 + Duration::from_millis(*ms as u64),
                _ => t0,
            };
            let from: SocketAddr = step.get("from").str().parse().unwrap();
            // As in the program's loop: expire idle transfers, then handle.
            receiver.expire_idle(at);
            let ack = receiver.handle(from, &step.get("datagram").bytes(), at);
            let want = step.get("ack");
            let want = if want.is_null() { None } else { Some(want.bytes()) };
            let show = |a: &Option<Vec<u8>>| a.as_ref().map(|a| String::from_utf8_lossy(a).into_owned());
            assert_eq!(show(&ack), show(&want), "{name}, step {i}: {:?}", step.get("note"));
        }
        drop(receiver); // closes (flushes) the files of incomplete transfers
        let want_files: Vec<(String, Vec<u8>)> = v
            .get("files")
            .array()
            .iter()
            .map(|f| (f.get("name").str().to_string(), f.get("content").bytes()))
            .collect();
        let mut want_names: Vec<String> = want_files.iter().map(|(n, _)| n.clone()).collect();
        want_names.sort();
        assert_eq!(files_in(&outdir), want_names, "{name}: files");
        for (file, content) in want_files {
            assert!(fs::read(outdir.join(&file)).unwrap() == content, "{name}: content of {file}");
        }
        checked += 1;
    }
    assert!(checked > 15, "only {checked} receiver vectors: is the file complete?");
}
