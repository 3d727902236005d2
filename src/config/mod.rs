//! The TOML config (SPEC §7): read raw, then validated into a [`Config`] that
//! later code can trust.
//!
//! [`Config::parse`] deserializes with unknown keys refused, then checks every
//! value and compiles its derived forms (URL regexes, CSS selectors) once. A bad
//! selector or regex fails here, naming the file, the key and the reason, and
//! never halfway through a crawl.
//!
//! # Architecture
//! - [`Config`]: the validated whole.
//! - [`CrawlSettings`]: politeness and limits for the crawler.
//! - [`SiteRules`]: one site's scope and extraction rules (`site`).
//! - `raw`: the serde mirror of the file.

mod locate;
mod raw;
mod site;

pub use site::{DEFAULT_MAX_DEPTH, SiteRules};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where the store lives when neither `--store` nor the config says.
pub const DEFAULT_STORE: &str = "snapshots/store";
/// The User-Agent sent when the config names none.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "govsnap/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/govsnap/govsnap)"
);

/// Crawl politeness and limits (`[crawl]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlSettings {
    /// Sent with every request; says who is crawling.
    pub user_agent: String,
    /// Requests in flight over all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// At least this long between two requests to one host.
    pub per_host_delay_ms: u64,
    /// Total timeout of one request.
    pub timeout_s: u64,
    /// Largest body accepted, decompressed.
    pub max_body_bytes: u64,
    /// Whether robots.txt is obeyed.
    pub respect_robots: bool,
    /// URLs the crawl queue holds in memory; more wait in the store's
    /// frontier and are read back when the queue runs dry.
    pub queue_in_memory: usize,
}

/// Extraction options (`[extract]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Fold full-width forms with NFKC (`（一）` → `(一)`, `１` → `1`): for
    /// downstream tools that want it; off by default, which keeps text as printed.
    pub nfkc: bool,
}

/// A validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (for messages).
    pub path: PathBuf,
    /// The store directory.
    pub store: PathBuf,
    /// Crawl settings.
    pub crawl: CrawlSettings,
    /// Extraction options.
    pub extract: ExtractOptions,
    /// The sites, in file order.
    pub sites: Vec<SiteRules>,
}

impl Config {
    /// Read and validate a config file.
    ///
    /// # Errors
    /// [`Error::ReadConfig`] when the file cannot be read, [`Error::Config`]
    /// naming the key when it is not valid.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Validate a config's text; `path` is only used in error messages.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key and the reason.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let err = |key: &str, reason: String| Error::Config {
            path: path.to_owned(),
            line: locate::line_of_key(text, key),
            key: key.to_owned(),
            reason,
        };
        let raw: raw::RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| locate::line_of(text, s.start));
            Error::Config {
                path: path.to_owned(),
                line,
                key: line.map_or_else(|| "(file)".to_owned(), |l| locate::key_at(text, l)),
                reason: e.message().trim().replace('\n', " "),
            }
        })?;
        let crawl = raw.crawl.unwrap_or_default();
        for (key, value) in [
            ("crawl.concurrency", crawl.concurrency),
            ("crawl.per_host_concurrency", crawl.per_host_concurrency),
            ("crawl.queue_in_memory", crawl.queue_in_memory),
        ] {
            if value == 0 {
                return Err(err(key, "must be at least 1".to_owned()));
            }
        }
        if crawl.timeout_s == 0 {
            return Err(err(
                "crawl.timeout_s",
                "must be at least 1 second".to_owned(),
            ));
        }
        let mut sites = Vec::with_capacity(raw.site.len());
        for (i, s) in raw.site.into_iter().enumerate() {
            let site = SiteRules::from_raw(s)
                .map_err(|(key, reason)| err(&format!("site[{i}].{key}"), reason))?;
            if sites
                .iter()
                .any(|other: &SiteRules| other.name == site.name)
            {
                return Err(err(
                    &format!("site[{i}].name"),
                    format!(
                        "the name {:?} is used by an earlier site; names must be unique",
                        site.name
                    ),
                ));
            }
            sites.push(site);
        }
        Ok(Self {
            path: path.to_owned(),
            store: raw.store.unwrap_or_else(|| PathBuf::from(DEFAULT_STORE)),
            crawl: CrawlSettings {
                user_agent: crawl
                    .user_agent
                    .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned()),
                concurrency: crawl.concurrency,
                per_host_concurrency: crawl.per_host_concurrency,
                per_host_delay_ms: crawl.per_host_delay_ms,
                timeout_s: crawl.timeout_s,
                max_body_bytes: crawl.max_body_bytes,
                respect_robots: crawl.respect_robots,
                queue_in_memory: crawl.queue_in_memory,
            },
            extract: ExtractOptions {
                nfkc: raw.extract.is_some_and(|e| e.nfkc),
            },
            sites,
        })
    }

    /// The site named `name`.
    ///
    /// # Errors
    /// [`Error::UnknownSite`] naming the config's sites.
    pub fn site(&self, name: &str) -> Result<&SiteRules> {
        self.sites
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::UnknownSite {
                path: self.path.clone(),
                name: name.to_owned(),
                known: self
                    .sites
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The first site whose scope takes `url`.
    #[must_use]
    pub fn site_for_url(&self, url: &str) -> Option<&SiteRules> {
        self.sites.iter().find(|s| s.in_scope(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
store = "snapshots/store"
[crawl]
user_agent = "govsnap-test"
per_host_delay_ms = 0
[[site]]
name = "tht-gk"
seeds = ["http://www.tht.gov.cn/gk/zdlyxxgk/"]
allow = ["^http://www\\.tht\\.gov\\.cn/gk/"]
deny = ["\\.(jpg|png)$"]
documents = ["/t\\d{8}_\\d+\\.html$"]
content = "div.TRS_Editor"
title = "div.title h1"
drop = ["div.share"]
"#;

    #[test]
    fn example_parses_and_matches_urls() {
        let c = Config::parse(EXAMPLE, Path::new("a.toml")).unwrap();
        assert_eq!(c.crawl.user_agent, "govsnap-test");
        assert_eq!(c.crawl.concurrency, 16);
        let site =
            c.site_for_url("http://www.tht.gov.cn/gk/zdlyxxgk/202103/t20210330_5391243.html");
        assert_eq!(site.map(|s| s.name.as_str()), Some("tht-gk"));
        assert!(
            c.site_for_url("http://www.tht.gov.cn/gk/logo.png")
                .is_none()
        );
        assert!(c.site_for_url("http://www.example.org/").is_none());
    }

    #[test]
    fn bad_selector_names_file_key_and_reason() {
        let bad = EXAMPLE.replace("div.TRS_Editor", "div..TRS");
        let e = Config::parse(&bad, Path::new("sites.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sites.toml") && e.contains("site[0].content"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_and_bad_regex_are_refused() {
        let e = Config::parse(&format!("{EXAMPLE}colour = 1\n"), Path::new("a.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        let e = Config::parse(&EXAMPLE.replace("^http", "(^http"), Path::new("a.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("site[0].allow"), "{e}");
    }

    #[test]
    fn limits_of_zero_are_refused() {
        for key in ["concurrency", "per_host_concurrency", "queue_in_memory"] {
            let text = EXAMPLE.replace("[crawl]\n", &format!("[crawl]\n{key} = 0\n"));
            let e = Config::parse(&text, Path::new("a.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("crawl.{key}")), "{e}");
            assert!(e.contains("at least 1"), "{e}");
        }
    }
}

#[cfg(test)]
mod shipped {
    use super::Config;

    /// Every config in `config/` parses and validates: they are examples
    /// people copy.
    #[test]
    fn shipped_configs_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
                assert!(!config.sites.is_empty(), "{}", path.display());
                assert!(
                    config
                        .sites
                        .iter()
                        .all(|s| !s.seeds.is_empty() && !s.documents.is_empty())
                );
                n += 1;
            }
        }
        assert!(n >= 3, "{n} configs");
    }
}
