//! One site's profile: its crawl scope and its extraction rules.

use super::raw::RawSite;
use regex::Regex;
use scraper::Selector;

/// The depth a crawl follows links to when the site does not say.
pub const DEFAULT_MAX_DEPTH: u32 = 4;

/// A site from the config, validated: regexes compiled, selectors parsed.
#[derive(Debug, Clone)]
pub struct SiteRules {
    /// The site's name, unique in the config.
    pub name: String,
    /// Where a crawl starts.
    pub seeds: Vec<url::Url>,
    /// URLs in scope match one of these …
    pub allow: Vec<Regex>,
    /// … and none of these.
    pub deny: Vec<Regex>,
    /// URLs that are documents (others are only followed).
    pub documents: Vec<Regex>,
    /// How many links deep a crawl goes from a seed.
    pub max_depth: u32,
    /// The content container.
    pub content: Option<Selector>,
    /// The document title.
    pub title: Option<Selector>,
    /// The publication date.
    pub date: Option<Selector>,
    /// Elements to remove before anything else.
    pub drop: Vec<Selector>,
}

impl SiteRules {
    /// Whether `url` is in the site's scope.
    #[must_use]
    pub fn in_scope(&self, url: &str) -> bool {
        self.allow.iter().any(|r| r.is_match(url)) && !self.deny.iter().any(|r| r.is_match(url))
    }

    /// Validate a raw site; errors are `(key, reason)`.
    pub(super) fn from_raw(raw: RawSite) -> Result<Self, (String, String)> {
        if raw.name.trim().is_empty() {
            return Err(("name".to_owned(), "must not be empty".to_owned()));
        }
        let seeds = raw
            .seeds
            .iter()
            .map(|s| {
                url::Url::parse(s)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| ("seeds".to_owned(), format!("{s:?} is not an http(s) URL")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            name: raw.name,
            seeds,
            allow: regexes("allow", &raw.allow)?,
            deny: regexes("deny", &raw.deny)?,
            documents: regexes("documents", &raw.documents)?,
            max_depth: raw.max_depth.unwrap_or(DEFAULT_MAX_DEPTH),
            content: raw
                .content
                .as_deref()
                .map(|s| selector("content", s))
                .transpose()?,
            title: raw
                .title
                .as_deref()
                .map(|s| selector("title", s))
                .transpose()?,
            date: raw
                .date
                .as_deref()
                .map(|s| selector("date", s))
                .transpose()?,
            drop: raw
                .drop
                .iter()
                .map(|s| selector("drop", s))
                .collect::<Result<_, _>>()?,
        })
    }
}

fn regexes(key: &str, patterns: &[String]) -> Result<Vec<Regex>, (String, String)> {
    patterns
        .iter()
        .map(|p| {
            Regex::new(p).map_err(|e| {
                let reason = e.to_string().lines().last().unwrap_or("").trim().to_owned();
                (
                    key.to_owned(),
                    format!("{p:?} is not a valid regex ({reason})"),
                )
            })
        })
        .collect()
}

fn selector(key: &str, css: &str) -> Result<Selector, (String, String)> {
    Selector::parse(css).map_err(|e| {
        (
            key.to_owned(),
            format!("{css:?} is not a valid CSS selector ({e})"),
        )
    })
}
