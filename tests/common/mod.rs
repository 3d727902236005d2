//! Fixture loaders shared by the integration tests.
//!
//! `tests/fixtures/cases.json` lists every fixture page with the URL it was
//! served from, its HTTP Content-Type when the test needs one, and the eval
//! data: snippets the body text must contain (`with`) and boilerplate it must
//! not (`without`). Each page's whole expected record sits beside it as
//! `<case>.expected.json`.

#![allow(dead_code)]

pub mod browser;
pub mod corpus;
pub mod nats;
pub mod pywb;
pub mod service;
pub mod shards;
pub mod warc;

use govsnap::{ExtractOptions, Page, Record, extract};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One fixture page.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub path: String,
    pub url: String,
    pub content_type: Option<String>,
    #[serde(default)]
    pub with: Vec<String>,
    #[serde(default)]
    pub without: Vec<String>,
}

impl Case {
    pub fn html_path(&self) -> PathBuf {
        fixtures_dir().join(&self.path)
    }

    pub fn expected_path(&self) -> PathBuf {
        self.html_path().with_extension("expected.json")
    }

    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(self.html_path()).expect("fixture exists")
    }

    /// Extract the fixture with the library, as `govsnap extract --url` would.
    pub fn extract(&self) -> Record {
        let bytes = self.bytes();
        let page = Page {
            bytes: &bytes,
            url: Some(&self.url),
            content_type: self.content_type.as_deref(),
            ..Page::default()
        };
        extract(&page, None, ExtractOptions::default()).expect("fixture extracts")
    }
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures_dir().join("cases.json")).expect("cases.json");
    serde_json::from_str(&text).expect("cases.json parses")
}

/// Every string of a record that a reader of the body would see.
pub fn body_strings(r: &Record) -> Vec<String> {
    fn walk(s: &[govsnap::Section], out: &mut Vec<String>) {
        for section in s {
            out.extend(section.heading.clone());
            out.extend(section.paragraphs.iter().cloned());
            walk(&section.children, out);
        }
    }
    let mut out = vec![r.text.clone()];
    walk(&r.sections, &mut out);
    out
}

/// A program the tests run beside govsnap (`chromium`, `wget`, `python3`,
/// or `warcio` from the virtualenv `scripts/test` makes; `$WARCIO` overrides
/// that one): its path, or a one-line failure that names the command which
/// installs it.
pub fn tool(name: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/venv/bin")
        .join(name);
    let found = if name == "warcio" {
        let path = std::env::var_os("WARCIO").map_or(venv, PathBuf::from);
        path.is_file().then_some(path)
    } else if venv.is_file() {
        // the Python tools scripts/test puts in its virtualenv (pywb's)
        Some(venv)
    } else {
        // Debian puts servers (nats-server) in /usr/sbin, which a user's
        // PATH may lack
        std::env::var_os("PATH")
            .and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|path| path.is_file())
            })
            .or_else(|| Some(Path::new("/usr/sbin").join(name)).filter(|p| p.is_file()))
    };
    found.unwrap_or_else(|| {
        panic!("`{name}` is missing: run scripts/test, which installs what the tests need")
    })
}

/// Run the real `govsnap` binary.
pub fn govsnap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Serve `app` on 127.0.0.1 (port 0) from a thread with its own runtime,
/// so that tests running the real binary, or their own runtime, can use
/// it; returns the address once it listens.
pub fn serve_on_thread(app: axum::Router) -> std::net::SocketAddr {
    serve_at(app, "127.0.0.1:0")
}

/// [`serve_on_thread`] at `addr`: a site that comes back where it was.
pub fn serve_at(app: axum::Router, addr: &str) -> std::net::SocketAddr {
    listen_on_thread(addr, move |listener| async move {
        axum::serve(listener, app).await.unwrap();
    })
}

/// Bind `addr` and run `serve` with the listener on a thread with its own
/// runtime; returns the address once it listens.
pub fn listen_on_thread<F, Fut>(addr: &str, serve: F) -> std::net::SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let addr = addr.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            serve(listener).await;
        });
    });
    rx.recv().unwrap()
}

/// The stdout of a command that must have succeeded (else its stderr).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}
