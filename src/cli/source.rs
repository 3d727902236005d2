//! Where the read commands read: the store itself, or, when a running
//! `govsnap serve` holds it (SPEC §9), that service over HTTP. Both answer
//! the same questions with the same types, so `pages`, `history`, `show`,
//! `diff` and `export` print the same either way.
//!
//! The store's lock decides: the store is opened first, and only when it
//! is in use is `STORE/serve.json` read; a `serve.json` left by a killed
//! service (its process gone) is ignored.

use anyhow::{Context, Result, anyhow, bail};
use govsnap::Record;
use govsnap::serve::ServeFile;
use govsnap::store::{Event, EventKind, PageState};
use govsnap::{Error, Store};
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// The store, or the service that holds it.
pub(super) enum Source {
    Local(Store),
    Service(Remote),
}

impl Source {
    /// Open the store at `dir` for reading, or find the service holding it.
    pub(super) fn open(dir: &Path) -> Result<Self> {
        match Store::open_existing(dir) {
            Ok(store) => Ok(Self::Local(store)),
            Err(Error::StoreLocked { path }) => match ServeFile::running(dir) {
                Some(file) => Ok(Self::Service(Remote::new(&file)?)),
                None => Err(Error::StoreLocked { path }.into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// A page's state, if the store has it.
    pub(super) fn page(&self, url: &str) -> Result<Option<PageState>> {
        match self {
            Self::Local(store) => Ok(store.page(url)?),
            Self::Service(remote) => remote.history(url)?.map(|(page, _)| Ok(page)).transpose(),
        }
    }

    /// A page's history, oldest first (empty for an unknown page).
    pub(super) fn history(&self, url: &str) -> Result<Vec<Event>> {
        match self {
            Self::Local(store) => Ok(store.history(url)?),
            Self::Service(remote) => Ok(remote.history(url)?.map(|(_, e)| e).unwrap_or_default()),
        }
    }

    /// Version `n`'s record and its fetch time.
    pub(super) fn record(&self, url: &str, n: u32) -> Result<Option<(Record, String)>> {
        Ok(self.shown(url, n)?.map(|s| (s.record, s.fetched_at)))
    }

    /// Version `n` of a page as `show` shows it: its record, and a file's
    /// attachment record (SPEC §11).
    pub(super) fn shown(&self, url: &str, n: u32) -> Result<Option<Shown>> {
        match self {
            Self::Local(store) => Ok(store.version(url, n)?.map(|v| Shown {
                record: v.record,
                attachment: v.attachment,
                fetched_at: v.fetched_at,
            })),
            Self::Service(remote) => {
                let fetched_at = self
                    .history(url)?
                    .into_iter()
                    .find(|e| e.kind == EventKind::Version && e.version == Some(n))
                    .map(|e| e.fetched_at);
                let Some(fetched_at) = fetched_at else {
                    return Ok(None);
                };
                let query = [("url", url.to_owned()), ("version", n.to_string())];
                let Some(value) = remote.get("/api/v1/record", &query)? else {
                    return Ok(None);
                };
                if value["kind"] == "attachment" {
                    let attachment: govsnap::attach::AttachmentRecord =
                        serde_json::from_value(value)?;
                    return Ok(Some(Shown {
                        record: attachment.as_record(url),
                        attachment: Some(attachment),
                        fetched_at,
                    }));
                }
                Ok(Some(Shown {
                    record: serde_json::from_value(value)?,
                    attachment: None,
                    fetched_at,
                }))
            }
        }
    }

    /// Every page with its next due time, in URL order.
    pub(super) fn each_page(
        &self,
        mut f: impl FnMut(PageState, Option<String>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Self::Local(store) => {
                for page in store.pages() {
                    let page = page?;
                    let due = store.next_due(&page)?;
                    f(page, due)?;
                }
            }
            Self::Service(remote) => {
                let mut cursor: Option<String> = None;
                loop {
                    let mut query = vec![("limit", "1000".to_owned())];
                    if let Some(c) = &cursor {
                        query.push(("cursor", c.clone()));
                    }
                    let answer = remote
                        .get("/api/v1/pages", &query)?
                        .ok_or_else(|| anyhow!("the service has no /api/v1/pages"))?;
                    for page in answer["pages"].as_array().into_iter().flatten() {
                        let due = page["next_due"].as_str().map(str::to_owned);
                        f(serde_json::from_value(page.clone())?, due)?;
                    }
                    match answer["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_owned()),
                        None => break,
                    }
                }
            }
        }
        Ok(())
    }
}

/// A running service, asked over HTTP on loopback or wherever it listens.
pub(super) struct Remote {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Remote {
    fn new(file: &ServeFile) -> Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            base: file.base_url(),
            token: file.token(),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .context("cannot set up HTTP to the service")?,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?,
        })
    }

    fn request(&self, path: &str, query: &[(&str, String)]) -> reqwest::RequestBuilder {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let request = self.client.get(format!("{}{path}?{query}", self.base));
        match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    /// A JSON answer; `None` for a 404.
    pub(super) fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Option<Value>> {
        self.runtime.block_on(async {
            let response = self.request(path, query).send().await.with_context(|| {
                format!(
                    "the store is held by govsnap serve at {}, which does not answer",
                    self.base
                )
            })?;
            let status = response.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let body: Value =
                serde_json::from_slice(&response.bytes().await?).with_context(|| {
                    format!(
                        "govsnap serve at {} answered {path} with no JSON",
                        self.base
                    )
                })?;
            if !status.is_success() {
                bail!(
                    "govsnap serve at {} answered {status}: {}",
                    self.base,
                    body["error"].as_str().unwrap_or("(no reason given)")
                );
            }
            Ok(Some(body))
        })
    }

    fn history(&self, url: &str) -> Result<Option<(PageState, Vec<Event>)>> {
        match self.get("/api/v1/history", &[("url", url.to_owned())])? {
            Some(v) => Ok(Some((
                serde_json::from_value(v["page"].clone())?,
                serde_json::from_value(v["events"].clone())?,
            ))),
            None => Ok(None),
        }
    }

    /// Copy the body of a streamed answer to `out`.
    pub(super) fn stream(
        &self,
        path: &str,
        query: &[(&str, String)],
        out: &mut impl Write,
    ) -> Result<()> {
        self.runtime.block_on(async {
            let mut response = self.request(path, query).send().await.with_context(|| {
                format!(
                    "the store is held by govsnap serve at {}, which does not answer",
                    self.base
                )
            })?;
            if !response.status().is_success() {
                let status = response.status();
                let bytes = response.bytes().await.unwrap_or_default();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                bail!(
                    "govsnap serve at {} answered {status}: {}",
                    self.base,
                    body["error"].as_str().unwrap_or("(no reason given)")
                );
            }
            while let Some(chunk) = response.chunk().await? {
                out.write_all(&chunk)?;
            }
            Ok(())
        })
    }
}

/// A version as `show` shows it.
pub(super) struct Shown {
    /// Its record (for a file, its text as a page's).
    pub(super) record: Record,
    /// A file's attachment record (SPEC §11).
    pub(super) attachment: Option<govsnap::attach::AttachmentRecord>,
    /// When it was fetched.
    pub(super) fetched_at: String,
}
