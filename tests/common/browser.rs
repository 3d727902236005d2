//! Debian's Chromium, headless, driven over the DevTools protocol: load a
//! page, wait for its load event, and read back what a person's browser
//! would hold — the DOM after scripts, the console's messages and errors,
//! every request the page made — and take screenshots.
//!
//! `scripts/test` installs `chromium`; without it these tests fail and say so.

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a page may take to load on a loaded machine.
const LOAD_PATIENCE: Duration = Duration::from_secs(60);

/// What one page load left behind.
#[derive(Debug, Default)]
pub struct Visit {
    /// `document.documentElement.outerHTML` after the load event.
    pub dom: String,
    /// The console's messages and the page's errors (uncaught exceptions,
    /// failed loads), as `level: text`.
    pub console: Vec<String>,
    /// The URL of every request the page made.
    pub requests: Vec<String>,
}

/// A headless Chromium with one page, driven from synchronous tests (it
/// keeps its own runtime for the DevTools socket).
pub struct Browser {
    child: Child,
    session: Session,
    runtime: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

/// The DevTools connection to the page.
struct Session {
    socket: Socket,
    next_id: u64,
    events: Vec<Value>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Start Chromium (as the machine's notes say it runs here: no sandbox
    /// as root, no background networking, a new profile).
    pub fn launch() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (child, session, profile) = runtime.block_on(Session::launch());
        Self {
            child,
            session,
            runtime,
            _profile: profile,
        }
    }

    /// The viewport: 1280 × 900 for a desk, 390 × 844 for a phone.
    pub fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.runtime
            .block_on(self.session.viewport(width, height, mobile));
    }

    /// Load `url` and read back what it left.
    pub fn visit(&mut self, url: &str) -> Visit {
        self.runtime.block_on(self.session.visit(url))
    }

    /// A JavaScript expression's value in the page.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.runtime.block_on(self.session.eval(expression))
    }

    /// A PNG of the page as it is now (the whole page when `full`).
    pub fn screenshot(&mut self, path: &Path, full: bool) {
        self.runtime.block_on(self.session.screenshot(path, full));
    }
}

impl Session {
    async fn launch() -> (Child, Self, tempfile::TempDir) {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(super::tool("chromium"))
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium runs");
        // Chromium says where its DevTools listen on stderr
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(ws) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(ws.trim().to_owned());
                }
            }
        });
        let browser_ws = rx
            .recv_timeout(LOAD_PATIENCE)
            .expect("chromium's DevTools address");
        let port = browser_ws
            .trim_start_matches("ws://")
            .split(['/', ':'])
            .nth(1)
            .unwrap()
            .to_owned();
        let page_ws = loop {
            let list = http_get(&format!("127.0.0.1:{port}"), "/json/list").await;
            let targets: Value = serde_json::from_str(&list).unwrap_or_default();
            if let Some(ws) = targets
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            {
                break ws.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (socket, _) = tokio_tungstenite::connect_async(page_ws.as_str())
            .await
            .unwrap();
        let mut session = Self {
            socket,
            next_id: 0,
            events: Vec::new(),
        };
        for domain in ["Page", "Runtime", "Log", "Network"] {
            session.call(&format!("{domain}.enable"), json!({})).await;
        }
        (child, session, profile)
    }

    /// Send a command and wait for its answer, keeping the events that
    /// arrive meanwhile.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(Message::text(message)).await.unwrap();
        loop {
            let message = self.next_message().await;
            if message["id"] == id {
                assert!(message["error"].is_null(), "{method}: {message}");
                return message["result"].clone();
            }
            self.events.push(message);
        }
    }

    async fn next_message(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(LOAD_PATIENCE, self.socket.next())
                .await
                .expect("chromium answers")
                .expect("chromium's socket is open")
                .unwrap();
            if let Message::Text(text) = next {
                return serde_json::from_str(&text).unwrap();
            }
        }
    }

    async fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        )
        .await;
    }

    async fn visit(&mut self, url: &str) -> Visit {
        self.events.clear();
        self.call("Page.navigate", json!({ "url": url })).await;
        while !self
            .events
            .iter()
            .any(|e| e["method"] == "Page.loadEventFired")
        {
            let message = self.next_message().await;
            self.events.push(message);
        }
        let dom = self.eval("document.documentElement.outerHTML").await;
        let mut visit = Visit {
            dom: dom.as_str().unwrap_or_default().to_owned(),
            ..Visit::default()
        };
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str().unwrap_or("") {
                "Runtime.consoleAPICalled" => visit.console.push(format!(
                    "{}: {}",
                    p["type"].as_str().unwrap_or(""),
                    p["args"]
                )),
                "Runtime.exceptionThrown" => visit
                    .console
                    .push(format!("exception: {}", p["exceptionDetails"])),
                "Log.entryAdded" => visit.console.push(format!(
                    "{}: {}",
                    p["entry"]["level"].as_str().unwrap_or(""),
                    p["entry"]["text"].as_str().unwrap_or("")
                )),
                "Network.requestWillBeSent" => visit
                    .requests
                    .push(p["request"]["url"].as_str().unwrap_or("").to_owned()),
                "Network.loadingFailed" => visit.console.push(format!(
                    "error: loading failed: {}",
                    p["errorText"].as_str().unwrap_or("")
                )),
                _ => {}
            }
        }
        visit
    }

    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        result["result"]["value"].clone()
    }

    async fn screenshot(&mut self, path: &Path, full: bool) {
        let shot = self
            .call(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": full }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }
}

/// A GET on loopback, the body as text (for DevTools' target list; its
/// server keeps the connection open, so the body ends at Content-Length).
async fn http_get(host: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(host).await else {
        return String::new();
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut response = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= length {
                return body.to_owned();
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return String::new(),
            Ok(n) => response.extend_from_slice(&chunk[..n]),
        }
    }
}
