//! A government site whose documents wait behind a gate, and a running
//! `govsnap serve` over it: what the service and browse tests share.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any awaited event may take on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// A district bureau's disclosure section: a list page and `docs` notices.
/// Document `i` answers once `allowed` is above `i`; until then its request
/// waits.
#[derive(Clone)]
pub struct Bureau {
    pub docs: u32,
    pub allowed: tokio::sync::watch::Sender<u32>,
    /// Bumps every document's text: a recrawl then finds new versions.
    pub edition: Arc<AtomicU32>,
    pub hits: Arc<Mutex<HashMap<String, u32>>>,
    /// Documents removed from the site: they answer 404.
    pub gone: Arc<Mutex<Vec<u32>>>,
}

impl Bureau {
    pub fn new(docs: u32, allowed: u32) -> (Self, SocketAddr) {
        Self::at(docs, allowed, "127.0.0.1:0")
    }

    /// [`Bureau::new`] answering at `addr`.
    pub fn at(docs: u32, allowed: u32, addr: &str) -> (Self, SocketAddr) {
        let bureau = Self {
            docs,
            allowed: tokio::sync::watch::Sender::new(allowed),
            edition: Arc::new(AtomicU32::new(1)),
            hits: Arc::default(),
            gone: Arc::default(),
        };
        let app = Router::new().fallback(page).with_state(bureau.clone());
        (bureau, super::serve_at(app, addr))
    }

    pub fn allow(&self, n: u32) {
        self.allowed.send_replace(n);
    }

    pub fn hits(&self, path: &str) -> u32 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

async fn page(State(b): State<Bureau>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    *b.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    if path == "/gk/index.html" {
        let links: String = (0..b.docs)
            .map(|i| format!("<li><a href=\"t20241105_{i}.html\">关于做好第{i}批惠企政策兑现工作的通知</a><span>2024-11-05</span></li>"))
            .collect();
        return Html(format!(
            "<html><head><meta charset=\"utf-8\"><title>通知公告_某某区商务局</title></head><body>\
             <div class=\"nav\"><a href=\"/\">首页</a> &gt; <a href=\"/gk/\">政务公开</a></div>\
             <ul class=\"list\">{links}</ul><div class=\"footer\">主办：某某区商务局 津ICP备05004470号</div></body></html>"
        ))
        .into_response();
    }
    let Some(i) = path
        .strip_prefix("/gk/t20241105_")
        .and_then(|p| p.strip_suffix(".html"))
        .and_then(|n| n.parse::<u32>().ok())
    else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    if b.gone.lock().unwrap().contains(&i) {
        return (StatusCode::NOT_FOUND, "").into_response();
    }
    let _ = b.allowed.subscribe().wait_for(|n| i < *n).await;
    let edition = b.edition.load(Ordering::SeqCst);
    // document 3's title names markup, as a notice about web pages may:
    // it must show as text wherever it is shown
    let title = if i == 3 {
        "关于清理网页中&lt;script&gt;代码残留的通知".to_owned()
    } else {
        format!("关于做好第{i}批惠企政策兑现工作的通知")
    };
    let source = if edition > 1 {
        "区商务局办公室"
    } else {
        "区商务局"
    };
    // an ETag as TRS servers send, which the bureau does not honour: a
    // recrawl asks conditionally and still gets the page
    let etag = [(header::ETAG, format!("\"{i}-{edition}\""))];
    (etag, Html(format!(
        "<html><head><meta charset=\"utf-8\"><title>{title}_某某区商务局</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a> &gt; <a href=\"/gk/\">政务公开</a> &gt; 通知公告</div>\
         <div class=\"article\"><h1>{title}</h1>\
         <div class=\"info\">发布时间：2024-11-05　来源：{source}</div>\
         <div class=\"TRS_Editor\"><p>各街道、各有关企业：</p>\
         <p>一、兑现范围</p><p>第{i}批符合条件的企业，按照第{edition}版实施细则申报，逾期不予受理。</p>\
         <p>二、工作要求</p><p>各单位要高度重视，按时报送材料，确保政策兑现及时到位。</p></div></div>\
         <div class=\"footer\">主办：某某区商务局 津ICP备05004470号 津公网安备12010102000123号</div></body></html>"
    )))
    .into_response()
}

/// A config for the bureau at `addr`, with its store in `dir`.
pub fn config(dir: &Path, addr: SocketAddr, schedule: Option<&str>) -> PathBuf {
    let schedule = schedule.map_or(String::new(), |s| format!("schedule = \"{s}\"\n"));
    let text = format!(
        "store = \"{}\"\n[crawl]\nper_host_delay_ms = 0\nper_host_concurrency = 4\n\n\
         [[site]]\nname = \"swj\"\nseeds = [\"http://{addr}/gk/index.html\"]\n\
         documents = ['/t\\d{{8}}_\\d+\\.html$']\n{schedule}",
        dir.join("store").display()
    );
    let path = dir.join("govsnap.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Wait for `what`, checking now and then, for at most [`PATIENCE`].
pub fn wait_until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `govsnap serve`.
pub struct Service {
    pub child: Child,
    pub store: PathBuf,
    pub base: String,
    pub token: String,
}

impl Service {
    pub fn start(config: &Path, store: &Path, listen: &str) -> Self {
        Self::start_with(config, store, listen, &[])
    }

    /// [`Service::start`] with more of `serve`'s arguments.
    pub fn start_with(config: &Path, store: &Path, listen: &str, more: &[&str]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_govsnap"))
            .args([
                "serve",
                "--config",
                config.to_str().unwrap(),
                "--listen",
                listen,
            ])
            .args(more)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let serve_json = store.join("serve.json");
        // a stale serve.json may be there until the service writes its own
        let file: Value = wait_until("serve.json", || {
            let text = std::fs::read_to_string(&serve_json).ok()?;
            serde_json::from_str::<Value>(&text)
                .ok()
                .filter(|f| f["pid"] == child.id())
        });
        let token_file = PathBuf::from(file["token_file"].as_str().unwrap());
        let token = std::fs::read_to_string(&token_file)
            .unwrap()
            .trim()
            .to_owned();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the token is its owner's only");
        }
        Self {
            child,
            store: store.to_owned(),
            base: format!("http://{}", file["address"].as_str().unwrap()),
            token,
        }
    }

    pub fn get(&self, path: &str, token: bool) -> (u16, Value, HashMap<String, String>) {
        request(
            "GET",
            &format!("{}{path}", self.base),
            token.then_some(&self.token),
        )
    }

    /// GET `path`, its body as bytes.
    pub fn get_bytes(&self, path: &str) -> (u16, Vec<u8>, HashMap<String, String>) {
        get_bytes(&format!("{}{path}", self.base))
    }

    pub fn api(&self, path: &str) -> Value {
        let (status, body, _) = self.get(path, false);
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    pub fn post(&self, path: &str, token: bool) -> u16 {
        request(
            "POST",
            &format!("{}{path}", self.base),
            token.then_some(&self.token),
        )
        .0
    }

    /// POST `path` with the token: the status and the body.
    pub fn post_with_token(&self, path: &str) -> (u16, Value) {
        let (status, body, _) = request("POST", &format!("{}{path}", self.base), Some(&self.token));
        (status, body)
    }

    pub fn site(&self) -> Value {
        self.api("/api/v1/sites")[0].clone()
    }

    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM, and the exit status once the process has ended.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate();
        self.exited()
    }

    /// The exit status once the process has ended by itself.
    pub fn exited(&mut self) -> std::process::ExitStatus {
        let status = wait_until("the service to exit", || self.child.try_wait().unwrap());
        assert!(
            !self.store.join("serve.json").exists(),
            "serve.json is removed at exit"
        );
        status
    }
}

/// A test that fails leaves no service behind.
impl Drop for Service {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP request. Returns the status, the body as JSON (`Null` when it is not), and the
/// headers.
/// A GET's status, body bytes as they came, and headers.
pub fn get_bytes(url: &str) -> (u16, Vec<u8>, HashMap<String, String>) {
    send("GET", url, None)
}

/// [`get_bytes`], or `None` when nothing answers (a server starting up).
pub fn get_bytes_or_none(url: &str) -> Option<(u16, Vec<u8>, HashMap<String, String>)> {
    try_send("GET", url, None)
}

/// A request's status, body (JSON when it is, else text) and headers.
pub fn request(
    method: &str,
    url: &str,
    token: Option<&String>,
) -> (u16, Value, HashMap<String, String>) {
    let (status, bytes, headers) = send(method, url, token);
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body, headers)
}

fn send(
    method: &str,
    url: &str,
    token: Option<&String>,
) -> (u16, Vec<u8>, HashMap<String, String>) {
    try_send(method, url, token).unwrap_or_else(|| panic!("{method} {url}: no answer"))
}

/// A request's status, body and headers; `None` when nothing answers.
fn try_send(
    method: &str,
    url: &str,
    token: Option<&String>,
) -> Option<(u16, Vec<u8>, HashMap<String, String>)> {
    try_send_form(method, url, token, None)
}

/// POST `form` (`a=1&b=2`) to `url` as a browser's form does: its status
/// and body as text.
pub fn post_form(url: &str, form: &str) -> (u16, String) {
    let (status, body, _) = try_send_form("POST", url, None, Some(form))
        .unwrap_or_else(|| panic!("POST {url}: no answer"));
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn try_send_form(
    method: &str,
    url: &str,
    token: Option<&String>,
    form: Option<&str>,
) -> Option<(u16, Vec<u8>, HashMap<String, String>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(form) = form {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_owned());
        }
        let response = req.send().await.ok()?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        Some((status, response.bytes().await.ok()?.to_vec(), headers))
    })
}

pub fn run(args: &[&str]) -> std::process::Output {
    super::govsnap(args)
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
