//! Slow and idle clients cannot take `govsnap serve` down (issue 33): under
//! `ulimit -n 1024`, 3,000 connections that send half a request head and
//! then nothing (slowloris) leave `/healthz` answering within 2 s
//! throughout, are closed within 60 s, and a crawl beside them completes.

mod common;

use common::service::{Bureau, Service, config, get_bytes_or_none, wait_until};
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HALF_OPEN: usize = 3_000;

/// `govsnap serve` started under `ulimit -n 1024`.
fn start_limited(config: &std::path::Path, store: &std::path::Path) -> Service {
    let child = Command::new("sh")
        .args([
            "-c",
            "ulimit -n 1024 && exec \"$0\" serve --config \"$1\" --listen 127.0.0.1:0",
            env!("CARGO_BIN_EXE_govsnap"),
            config.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let file: Value = wait_until("serve.json", || {
        let text = std::fs::read_to_string(store.join("serve.json")).ok()?;
        serde_json::from_str::<Value>(&text)
            .ok()
            .filter(|f| f["pid"] == child.id())
    });
    let token_file = PathBuf::from(file["token_file"].as_str().unwrap());
    Service {
        child,
        store: store.to_owned(),
        base: format!("http://{}", file["address"].as_str().unwrap()),
        token: std::fs::read_to_string(token_file)
            .unwrap()
            .trim()
            .to_owned(),
    }
}

/// `/healthz` answers 200 within 2 s.
fn healthy(service: &Service, when: &str) {
    let start = Instant::now();
    let answer = get_bytes_or_none(&format!("{}/healthz", service.base));
    let took = start.elapsed();
    assert!(
        answer.is_some_and(|(status, _, _)| status == 200) && took < Duration::from_secs(2),
        "{when}: /healthz did not answer within 2 s (took {took:?})"
    );
}

#[test]
fn half_open_connections_are_shed_and_the_service_and_its_crawl_go_on() {
    // this test holds 3,000 sockets itself
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(8, 0);
    let config = config(dir.path(), addr, Some("every 1d"));
    let service = start_limited(&config, &dir.path().join("store"));
    let address = service.base.trim_start_matches("http://").to_owned();
    healthy(&service, "at start");

    // the crawl starts and waits on the site's documents meanwhile
    let mut half_open = Vec::with_capacity(HALF_OPEN);
    for i in 0..HALF_OPEN {
        let mut stream = TcpStream::connect(&address).unwrap();
        let _ = stream.write_all(b"GET /api/v1/sites HTTP/1.1\r\nHost: govsnap\r\nUser-Ag");
        half_open.push(stream);
        if i % 250 == 0 {
            healthy(&service, &format!("with {i} half-open connections"));
        }
    }
    let opened = Instant::now();
    for round in 0..5 {
        healthy(&service, &format!("with all of them open ({round})"));
    }

    // the crawl beside them completes
    bureau.allow(u32::MAX);
    wait_until("the crawl to complete", || {
        let site = service.site();
        (site["documents"] == 8 && site["crawling"] == false).then_some(())
    });

    // every half-open connection is closed by the service within 60 s
    let mut open = 0;
    for stream in &mut half_open {
        let left = Duration::from_secs(60)
            .saturating_sub(opened.elapsed())
            .max(Duration::from_millis(10));
        stream.set_read_timeout(Some(left)).unwrap();
        let mut buf = [0u8; 512];
        let closed = loop {
            match stream.read(&mut buf) {
                Ok(0) => break true,
                // an answer (a 408) before the close is read past
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break false;
                }
                // reset by the service
                Err(_) => break true,
            }
        };
        if !closed {
            open += 1;
        }
    }
    assert_eq!(open, 0, "half-open connections still open after 60 s");
    healthy(&service, "at the end");
    assert!(service.stop().success());
}
