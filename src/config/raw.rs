//! The config file as written: serde types that mirror the TOML, with unknown
//! keys refused. Nothing here is validated; see [`super::Config::parse`].

use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub store: Option<PathBuf>,
    pub crawl: Option<RawCrawl>,
    pub extract: Option<RawExtract>,
    #[serde(default)]
    pub site: Vec<RawSite>,
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
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExtract {
    #[serde(default)]
    pub nfkc: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSite {
    pub name: String,
    #[serde(default)]
    pub seeds: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
    #[serde(default)]
    pub documents: Vec<String>,
    pub max_depth: Option<u32>,
    pub content: Option<String>,
    pub title: Option<String>,
    pub date: Option<String>,
    #[serde(default)]
    pub drop: Vec<String>,
}
