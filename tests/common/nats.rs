//! A real `nats-server` with JetStream on loopback (Debian's, which
//! `scripts/test` installs), and a reader of the whole `GOVSNAP` stream as
//! a downstream consumer sees it.

use super::service::wait_until;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `nats-server -js`.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    /// JetStream's storage: kept across [`Nats::restart`].
    pub dir: PathBuf,
    args: Vec<String>,
}

impl Nats {
    /// Start on a free port with JetStream in `dir`, with `more` arguments
    /// (authentication, TLS).
    pub fn start(dir: &Path, more: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut nats = Self {
            child: None,
            port,
            dir: dir.to_owned(),
            args: more.iter().map(|s| (*s).to_owned()).collect(),
        };
        nats.restart();
        nats
    }

    /// Start again on the same port and storage (after [`Nats::stop`]).
    pub fn restart(&mut self) {
        let log = self.dir.join("nats.log");
        let child = Command::new(super::tool("nats-server"))
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.dir)
            .args(["-l"])
            .arg(&log)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        // ready once it says so in its log (a port may take a moment to bind)
        let mark =
            std::fs::read_to_string(&log).map_or(0, |l| l.matches("Server is ready").count());
        wait_until("nats-server to be ready", || {
            let text = std::fs::read_to_string(&log).ok()?;
            (text.matches("Server is ready").count() > mark).then_some(())
        });
    }

    /// Stop it (SIGTERM) and wait until it has exited.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            wait_until("nats-server to exit", || child.try_wait().unwrap());
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One message of the stream.
#[derive(Debug, Clone)]
pub struct Message {
    pub sequence: u64,
    pub subject: String,
    /// `Nats-Msg-Id`.
    pub id: String,
    pub line: Value,
}

/// Every message of stream `GOVSNAP`, in stream order, as a consumer that
/// reads it from the start gets them. `options` connects (credentials).
pub fn read_stream(url: &str, options: async_nats::ConnectOptions) -> Vec<Message> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use async_nats::jetstream::consumer::{DeliverPolicy, pull};
        use futures_util::StreamExt;
        let client = options.connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream("GOVSNAP").await.unwrap();
        let last = stream.info().await.unwrap().state.last_sequence;
        if last == 0 {
            return Vec::new();
        }
        let consumer = stream
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::All,
                ..pull::Config::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut out = Vec::new();
        while out.last().is_none_or(|m: &Message| m.sequence < last) {
            let message = tokio::time::timeout(super::service::PATIENCE, messages.next())
                .await
                .expect("the stream's messages")
                .unwrap()
                .unwrap();
            let info = message.info().unwrap();
            let sequence = info.stream_sequence;
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            out.push(Message {
                sequence,
                subject: message.subject.to_string(),
                id,
                line: serde_json::from_slice(&message.payload).unwrap(),
            });
            message.ack().await.unwrap();
        }
        out
    })
}
