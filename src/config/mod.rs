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
//! - [`Shard`]: which sites one of several processes owns (`shard`).
//! - [`PublishSettings`]: `[publish]`, where changes are handed on (`publish`).
//! - `raw`: the serde mirror of the file.

mod locate;
mod publish;
mod raw;
mod shard;
mod site;

pub use publish::{DEFAULT_DUPLICATE_WINDOW, NatsAuth, PublishSettings};
pub use shard::Shard;
pub use site::{DEFAULT_MAX_DEPTH, JpageRules, Schedule, SiteRules, Tls};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where the store lives when neither `--store` nor the config says.
pub const DEFAULT_STORE: &str = "snapshots/store";

/// `[store] min_free` when the config does not say: 1 GB.
pub const DEFAULT_MIN_FREE: u64 = 1_000_000_000;

/// A size in bytes: an integer, or a number and a unit (`"1GB"`, `"1.5 GiB"`,
/// `"500MB"`, `"0"`; B, KB, MB, GB, TB by 1000, KiB, MiB, GiB, TiB by 1024).
fn size_of(value: &toml::Value) -> std::result::Result<u64, String> {
    let bad = || {
        format!("{value} is not a size: write bytes (1000000000) or a size (\"1GB\", \"500 MiB\")")
    };
    match value {
        toml::Value::Integer(n) => u64::try_from(*n).map_err(|_| bad()),
        toml::Value::String(text) => {
            let text = text.trim();
            let split = text
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(text.len());
            let number: f64 = text[..split].parse().map_err(|_| bad())?;
            let unit: u64 = match text[split..].trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "kb" | "k" => 1_000,
                "mb" | "m" => 1_000_000,
                "gb" | "g" => 1_000_000_000,
                "tb" | "t" => 1_000_000_000_000,
                "kib" => 1 << 10,
                "mib" => 1 << 20,
                "gib" => 1 << 30,
                "tib" => 1 << 40,
                _ => return Err(bad()),
            };
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "a size a person wrote: far inside f64's exact integers"
            )]
            Ok((number * unit as f64).round() as u64)
        }
        _ => Err(bad()),
    }
}
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
    /// Whether the files documents link are archived (`attachments`, SPEC
    /// §11).
    pub attachments: bool,
    /// Largest attachment kept (`max_attachment_bytes`); a larger one is
    /// skipped, counted and named.
    pub max_attachment_bytes: u64,
    /// The formats archived (`attachment_types`; all of SPEC §11's when
    /// not given).
    pub attachment_types: Vec<crate::attach::Format>,
    /// How soon a crawl that could not reach its site is tried again under
    /// `serve` (`retry_unreached`, SPEC §9); the wait doubles while the
    /// site stays down.
    pub retry_unreached: std::time::Duration,
}

impl CrawlSettings {
    /// Whether files of `format` are archived.
    #[must_use]
    pub fn archives(&self, format: crate::attach::Format) -> bool {
        self.attachments && self.attachment_types.contains(&format)
    }
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
    /// Bytes to keep free on the store's file system (`[store] min_free`):
    /// under it a crawl warns, under half of it crawls pause, so that the
    /// disk's last bytes are never the store's. 0: no check.
    pub min_free: u64,
    /// Crawl settings.
    pub crawl: CrawlSettings,
    /// Extraction options.
    pub extract: ExtractOptions,
    /// `[wayback] delay_ms`: the pause between two requests to a Wayback
    /// server (`ingest --cdx`, SPEC §12).
    pub wayback_delay_ms: u64,
    /// `[publish]`: where every change is published (SPEC §14), if anywhere.
    pub publish: Option<PublishSettings>,
    /// The sites, in file order.
    pub sites: Vec<SiteRules>,
}

impl Config {
    /// Keep only the sites `shard` owns (SPEC §14): a process that serves
    /// one shard neither crawls nor lists the others. Returns how many
    /// sites it dropped.
    pub fn keep_shard(&mut self, shard: Shard) -> usize {
        let before = self.sites.len();
        self.sites.retain(|site| shard.owns(&site.name));
        before - self.sites.len()
    }

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
        check_crawl(&crawl).map_err(|(key, reason)| err(key, reason))?;
        let (store, min_free) = match raw.store {
            None => (None, DEFAULT_MIN_FREE),
            Some(raw::RawStore::Path(path)) => (Some(path), DEFAULT_MIN_FREE),
            Some(raw::RawStore::Table(table)) => {
                let min_free = match &table.min_free {
                    None => DEFAULT_MIN_FREE,
                    Some(value) => {
                        size_of(value).map_err(|reason| err("store.min_free", reason))?
                    }
                };
                (table.path, min_free)
            }
        };
        let templates = named_templates(&raw.template, &err)?;
        let mut regexes = site::Regexes::default();
        let mut sites = Vec::with_capacity(raw.site.len());
        for (i, s) in raw.site.iter().enumerate() {
            let template = template_of(s, &templates)
                .map_err(|reason| err(&format!("site[{i}].template"), reason))?;
            let site = SiteRules::from_raw(s, template, &mut regexes)
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
        let attachment_types = attachment_types(crawl.attachment_types.as_deref())
            .map_err(|reason| err("crawl.attachment_types", reason))?;
        let retry_unreached = retry_unreached(crawl.retry_unreached.as_deref())
            .map_err(|reason| err("crawl.retry_unreached", reason))?;
        let publish = raw
            .publish
            .map(PublishSettings::from_raw)
            .transpose()
            .map_err(|(key, reason)| err(&format!("publish.{key}"), reason))?;
        Ok(Self {
            path: path.to_owned(),
            store: store.unwrap_or_else(|| PathBuf::from(DEFAULT_STORE)),
            min_free,
            wayback_delay_ms: raw.wayback.unwrap_or_default().delay_ms,
            publish,
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
                attachments: crawl.attachments,
                max_attachment_bytes: crawl.max_attachment_bytes,
                attachment_types,
                retry_unreached,
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

/// `[crawl]`'s counts that must be at least 1; an error is `(key, reason)`.
fn check_crawl(crawl: &raw::RawCrawl) -> std::result::Result<(), (&'static str, String)> {
    for (key, value) in [
        ("crawl.concurrency", crawl.concurrency),
        ("crawl.per_host_concurrency", crawl.per_host_concurrency),
        ("crawl.queue_in_memory", crawl.queue_in_memory),
    ] {
        if value == 0 {
            return Err((key, "must be at least 1".to_owned()));
        }
    }
    if crawl.timeout_s == 0 {
        return Err(("crawl.timeout_s", "must be at least 1 second".to_owned()));
    }
    Ok(())
}

/// The config's templates by name; a name used twice is an error.
fn named_templates(
    raw: &[raw::RawTemplate],
    err: &impl Fn(&str, String) -> Error,
) -> Result<Vec<(String, raw::RawRules)>> {
    let mut templates: Vec<(String, raw::RawRules)> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        if templates.iter().any(|(name, _)| *name == t.name) {
            return Err(err(
                &format!("template[{i}].name"),
                format!(
                    "the name {:?} is used by an earlier template; names must be unique",
                    t.name
                ),
            ));
        }
        templates.push((t.name.clone(), t.rules()));
    }
    Ok(templates)
}

/// The rules of the template a site names, or why there are none.
fn template_of<'t>(
    site: &raw::RawSite,
    templates: &'t [(String, raw::RawRules)],
) -> std::result::Result<Option<&'t raw::RawRules>, String> {
    let Some(name) = &site.template else {
        return Ok(None);
    };
    if let Some((_, rules)) = templates.iter().find(|(n, _)| n == name) {
        return Ok(Some(rules));
    }
    let known: Vec<&str> = templates.iter().map(|(n, _)| n.as_str()).collect();
    Err(format!(
        "site {:?} names the template {name:?}, which the config does not have{}",
        site.name,
        if known.is_empty() {
            String::new()
        } else {
            format!(" (its templates: {})", known.join(", "))
        }
    ))
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
    fn the_store_is_a_path_or_a_table_with_min_free() {
        let c = Config::parse(EXAMPLE, Path::new("a.toml")).unwrap();
        assert_eq!(
            (c.store.as_path(), c.min_free),
            (Path::new("snapshots/store"), DEFAULT_MIN_FREE)
        );
        let table = |min_free: &str| {
            let text = EXAMPLE.replace(
                "store = \"snapshots/store\"",
                &format!("[store]\npath = \"/srv/govsnap\"\nmin_free = {min_free}\n"),
            );
            Config::parse(&text, Path::new("a.toml")).map(|c| (c.store, c.min_free))
        };
        for (written, bytes) in [
            ("\"1GB\"", 1_000_000_000),
            ("\"1.5 GiB\"", 3 << 29),
            ("\"500MB\"", 500_000_000),
            ("\"0\"", 0),
            ("2048", 2048),
        ] {
            assert_eq!(
                table(written).unwrap(),
                (PathBuf::from("/srv/govsnap"), bytes),
                "{written}"
            );
        }
        for bad in ["\"lots\"", "\"5 parsecs\"", "-1"] {
            let e = table(bad).unwrap_err().to_string();
            assert!(
                e.contains("store.min_free") && e.contains("not a size"),
                "{e}"
            );
        }
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

#[cfg(test)]
mod templates {
    use super::Config;
    use std::path::Path;

    const PROVINCE: &str = r#"
[[template]]
name = "trs"
documents = ["/t\\d{8}_\\d+\\.html$"]
deny = ["\\.(jpg|png)$", "/search"]
content = "div.TRS_Editor"
max_depth = 3

[[site]]
name = "hexi"
template = "trs"
seeds = ["http://www.tjhx.gov.cn/zwgk/"]
schedule = "every 1d"

[[site]]
name = "nankai"
template = "trs"
seeds = ["https://www.tjnk.gov.cn/zwgk/", "https://xxgk.tjnk.gov.cn/"]
content = "div.article-content"
max_depth = 5
"#;

    #[test]
    fn a_template_gives_its_keys_and_a_site_its_own_win() {
        let c = Config::parse(PROVINCE, Path::new("province.toml")).unwrap();
        let (hexi, nankai) = (&c.sites[0], &c.sites[1]);
        assert_eq!(hexi.content_css.as_deref(), Some("div.TRS_Editor"));
        assert_eq!(hexi.max_depth, 3);
        assert_eq!(
            hexi.schedule,
            Some(super::Schedule::Every(std::time::Duration::from_hours(24)))
        );
        assert!(hexi.documents[0].is_match("http://www.tjhx.gov.cn/zwgk/t20240301_1.html"));
        assert_eq!(nankai.content_css.as_deref(), Some("div.article-content"));
        assert_eq!(nankai.max_depth, 5);
        assert_eq!(nankai.deny.len(), 2, "the template's deny");
        // no allow: the seeds' hosts, any path, deny still applies
        assert!(hexi.in_scope("http://www.tjhx.gov.cn/xwzx/t20240301_1.html"));
        assert!(
            !hexi.in_scope("https://www.tjhx.gov.cn/zwgk/"),
            "another scheme"
        );
        assert!(!hexi.in_scope("http://www.tjhx.gov.cn.evil.org/zwgk/"));
        assert!(!hexi.in_scope("http://www.tjhx.gov.cn/search?q=1"));
        assert!(nankai.in_scope("https://xxgk.tjnk.gov.cn/a.html"));
        assert!(!nankai.in_scope("http://www.tjhx.gov.cn/zwgk/"));
    }

    #[test]
    fn retry_unreached_is_a_duration_of_a_second_or_more() {
        let config = Config::parse(PROVINCE, Path::new("province.toml")).unwrap();
        assert_eq!(config.crawl.retry_unreached, super::DEFAULT_RETRY_UNREACHED);
        let with = |v: &str| format!("[crawl]\nretry_unreached = \"{v}\"\n{PROVINCE}");
        let config = Config::parse(&with("90s"), Path::new("p.toml")).unwrap();
        assert_eq!(config.crawl.retry_unreached.as_secs(), 90);
        for bad in ["soon", "500ms"] {
            let e = Config::parse(&with(bad), Path::new("p.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("crawl.retry_unreached"), "{bad}: {e}");
        }
    }

    #[test]
    fn tls_is_verify_unless_a_site_or_its_template_says_lenient() {
        let c = Config::parse(PROVINCE, Path::new("province.toml")).unwrap();
        assert!(c.sites.iter().all(|s| s.tls == super::Tls::Verify));
        let lenient = PROVINCE.replace("max_depth = 3\n", "max_depth = 3\ntls = \"lenient\"\n");
        let c = Config::parse(&lenient, Path::new("province.toml")).unwrap();
        assert!(c.sites.iter().all(|s| s.tls == super::Tls::Lenient));
        let bad = PROVINCE.replace("max_depth = 5\n", "max_depth = 5\ntls = \"off\"\n");
        let e = Config::parse(&bad, Path::new("province.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tls") && e.contains("lenient"), "{e}");
    }

    #[test]
    fn schedules_are_every_duration_or_a_cron_line() {
        let cron = PROVINCE.replace("every 1d", "0 3 * * 1-5");
        let c = Config::parse(&cron, Path::new("province.toml")).unwrap();
        let schedule = c.sites[0].schedule.clone().unwrap();
        assert_eq!(schedule.to_string(), "0 3 * * 1-5");
        // the next weekday at 03:00 local time, after a Friday 10:00
        let friday: chrono::DateTime<chrono::Local> =
            chrono::TimeZone::with_ymd_and_hms(&chrono::Local, 2026, 11, 27, 10, 0, 0).unwrap();
        let next: chrono::DateTime<chrono::Local> = schedule.next_after(friday.into()).into();
        assert_eq!(
            next.format("%Y-%m-%d %H:%M").to_string(),
            "2026-11-30 03:00"
        );
        let every = super::Schedule::parse("every 6h").unwrap();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        assert_eq!(every.next_after(t), t + std::time::Duration::from_hours(6));
        for bad in [
            "every day",
            "daily",
            "0 3 * *",
            "every 0s",
            "61 3 * * *",
            "0 0 30 2 *",
        ] {
            let text = PROVINCE.replace("every 1d", bad);
            let e = Config::parse(&text, Path::new("province.toml"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("line 13") && e.contains("site[0].schedule"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn an_unknown_template_names_the_site_and_the_key() {
        let text = PROVINCE.replace(
            "template = \"trs\"\nseeds = [\"http://www.tjhx",
            "template = \"dede\"\nseeds = [\"http://www.tjhx",
        );
        let e = Config::parse(&text, Path::new("province.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("province.toml line 11"), "{e}");
        assert!(
            e.contains("site[0].template")
                && e.contains("\"hexi\"")
                && e.contains("\"dede\"")
                && e.contains("trs"),
            "{e}"
        );
        let e = Config::parse(
            &format!("{PROVINCE}[[template]]\nname = \"trs\"\nseeds = []\n"),
            Path::new("p.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("seeds"), "a template has no seeds: {e}");
    }
}

/// The first wait after a crawl could not reach its site, when the config
/// does not say.
pub const DEFAULT_RETRY_UNREACHED: std::time::Duration = std::time::Duration::from_mins(10);

/// `[crawl] retry_unreached` (`"10m"`, `"30s"`) as a duration.
fn retry_unreached(text: Option<&str>) -> std::result::Result<std::time::Duration, String> {
    text.map_or(Ok(DEFAULT_RETRY_UNREACHED), a_second_or_more)
}

/// A humantime duration (`"1d"`, `"6h"`, `"90s"`) of at least a second,
/// as every duration key of the config takes it.
fn a_second_or_more(text: &str) -> std::result::Result<std::time::Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d >= std::time::Duration::from_secs(1) => Ok(d),
        Ok(_) => Err(format!("{text:?} is shorter than a second")),
        Err(e) => Err(format!(
            "{text:?} is not a duration ({e}); write it as \"1d\", \"6h\" or \"30min\""
        )),
    }
}

/// `[crawl] attachment_types` as formats (every one of SPEC §11's when not
/// given); the error names a type that is none of them.
fn attachment_types(
    names: Option<&[String]>,
) -> std::result::Result<Vec<crate::attach::Format>, String> {
    use crate::attach::Format;
    let Some(names) = names else {
        return Ok(Format::ALL.to_vec());
    };
    names
        .iter()
        .map(|name| {
            Format::from_extension(name).ok_or_else(|| {
                let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("{name:?} is not one of {}", known.join(", "))
            })
        })
        .collect()
}

/// `[wayback] delay_ms` when there is no config, or it does not say.
pub const DEFAULT_WAYBACK_DELAY_MS: u64 = 1000;
