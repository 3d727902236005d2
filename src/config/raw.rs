//! The config file as written: serde types that mirror the TOML, with unknown
//! keys refused. Nothing here is validated; see [`super::Config::parse`].

use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub store: Option<RawStore>,
    pub crawl: Option<RawCrawl>,
    pub extract: Option<RawExtract>,
    pub wayback: Option<RawWayback>,
    pub publish: Option<super::publish::RawPublish>,
    #[serde(default)]
    pub template: Vec<RawTemplate>,
    #[serde(default)]
    pub site: Vec<RawSite>,
}

/// `[wayback]`: how `ingest --cdx` asks a Wayback server (SPEC §12).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawWayback {
    pub delay_ms: u64,
}

impl Default for RawWayback {
    fn default() -> Self {
        Self { delay_ms: 1000 }
    }
}

/// `store = "DIR"`, or a `[store]` table with its `path` and `min_free`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawStore {
    Path(PathBuf),
    Table(RawStoreTable),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStoreTable {
    pub path: Option<PathBuf>,
    /// Bytes (an integer) or a size (`"1GB"`, `"500 MiB"`).
    pub min_free: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawCrawl {
    pub user_agent: Option<String>,
    pub concurrency: usize,
    pub per_host_concurrency: usize,
    pub per_host_delay_ms: u64,
    pub timeout_s: u64,
    pub max_body_bytes: u64,
    pub respect_robots: bool,
    pub queue_in_memory: usize,
    pub attachments: bool,
    pub max_attachment_bytes: u64,
    pub attachment_types: Option<Vec<String>>,
    pub retry_unreached: Option<String>,
}

impl Default for RawCrawl {
    fn default() -> Self {
        Self {
            user_agent: None,
            concurrency: 16,
            per_host_concurrency: 2,
            per_host_delay_ms: 1000,
            timeout_s: 30,
            max_body_bytes: 20_000_000,
            respect_robots: true,
            queue_in_memory: 10_000,
            attachments: true,
            max_attachment_bytes: 200_000_000,
            attachment_types: None,
            retry_unreached: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExtract {
    #[serde(default)]
    pub nfkc: bool,
}

/// A struct with its own fields and every [`RawRules`] key, flat as the
/// TOML writes them (serde's `flatten` cannot refuse unknown keys).
macro_rules! with_rules {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            pub allow: Option<Vec<String>>,
            pub deny: Option<Vec<String>>,
            pub documents: Option<Vec<String>>,
            pub max_depth: Option<u32>,
            pub content: Option<String>,
            pub title: Option<String>,
            pub date: Option<String>,
            pub drop: Option<Vec<String>>,
            pub revisit_min: Option<String>,
            pub revisit_max: Option<String>,
            pub max_crawl_time: Option<String>,
            pub schedule: Option<String>,
            pub strip_params: Option<Vec<String>>,
            pub max_path_depth: Option<u32>,
            pub max_pages: Option<u64>,
            pub gone_patterns: Option<Vec<String>>,
            pub jpage: Option<toml::Table>,
            pub tls: Option<String>,
        }

        impl $name {
            /// The rules this entry gives itself.
            #[allow(dead_code, reason = "`RawRules` itself never needs a copy of its rules")]
            pub(super) fn rules(&self) -> RawRules {
                RawRules {
                    allow: self.allow.clone(),
                    deny: self.deny.clone(),
                    documents: self.documents.clone(),
                    max_depth: self.max_depth,
                    content: self.content.clone(),
                    title: self.title.clone(),
                    date: self.date.clone(),
                    drop: self.drop.clone(),
                    revisit_min: self.revisit_min.clone(),
                    revisit_max: self.revisit_max.clone(),
                    max_crawl_time: self.max_crawl_time.clone(),
                    schedule: self.schedule.clone(),
                    strip_params: self.strip_params.clone(),
                    max_path_depth: self.max_path_depth,
                    max_pages: self.max_pages,
                    gone_patterns: self.gone_patterns.clone(),
                    jpage: self.jpage.clone(),
                    tls: self.tls.clone(),
                }
            }
        }
    };
}

with_rules! {
    /// The keys a site and a template share. Absent keys are `None`, so
    /// that a site's own keys can win over its template's one by one.
    RawRules {}
}

impl RawRules {
    /// These rules, each key not given taken from `base`.
    pub(super) fn over(self, base: &Self) -> Self {
        Self {
            allow: self.allow.or_else(|| base.allow.clone()),
            deny: self.deny.or_else(|| base.deny.clone()),
            documents: self.documents.or_else(|| base.documents.clone()),
            max_depth: self.max_depth.or(base.max_depth),
            content: self.content.or_else(|| base.content.clone()),
            title: self.title.or_else(|| base.title.clone()),
            date: self.date.or_else(|| base.date.clone()),
            drop: self.drop.or_else(|| base.drop.clone()),
            revisit_min: self.revisit_min.or_else(|| base.revisit_min.clone()),
            revisit_max: self.revisit_max.or_else(|| base.revisit_max.clone()),
            max_crawl_time: self.max_crawl_time.or_else(|| base.max_crawl_time.clone()),
            schedule: self.schedule.or_else(|| base.schedule.clone()),
            strip_params: self.strip_params.or_else(|| base.strip_params.clone()),
            max_path_depth: self.max_path_depth.or(base.max_path_depth),
            max_pages: self.max_pages.or(base.max_pages),
            gone_patterns: self.gone_patterns.or_else(|| base.gone_patterns.clone()),
            jpage: self.jpage.or_else(|| base.jpage.clone()),
            tls: self.tls.or_else(|| base.tls.clone()),
        }
    }
}

with_rules! {
    /// `[[template]]`: the rules of a CMS that many sites share (SPEC §7):
    /// every site key but `name` and `seeds`.
    RawTemplate { name: String }
}

with_rules! {
    /// `[[site]]`.
    RawSite {
        name: String,
        #[serde(default)]
        seeds: Vec<String>,
        /// The `[[template]]` whose keys this site takes (its own win).
        template: Option<String>,
    }
}
