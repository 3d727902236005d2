//! One site's profile: its crawl scope and its extraction rules.

use super::raw::{RawRules, RawSite};
use crate::store::schedule::{DEFAULT_REVISIT_MAX, DEFAULT_REVISIT_MIN, Revisit};
use regex::Regex;
use scraper::Selector;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The depth a crawl follows links to when the site does not say.
pub const DEFAULT_MAX_DEPTH: u32 = 4;
/// `max_path_depth` when a site does not say.
pub(super) const DEFAULT_MAX_PATH_DEPTH: u32 = 16;
/// `max_pages` when a site does not say.
pub(super) const DEFAULT_MAX_PAGES: u64 = 200_000;

/// A site from the config, validated: regexes compiled, selectors parsed.
#[derive(Debug, Clone)]
pub struct SiteRules {
    /// The site's name, unique in the config.
    pub name: String,
    /// Where a crawl starts.
    pub seeds: Vec<url::Url>,
    /// URLs in scope match one of these …
    pub allow: Vec<UrlPattern>,
    /// … and none of these.
    pub deny: Vec<UrlPattern>,
    /// URLs that are documents (others are only followed).
    pub documents: Vec<UrlPattern>,
    /// How many links deep a crawl goes from a seed.
    pub max_depth: u32,
    /// The content container.
    pub content: Option<Selector>,
    /// The content selector as written, for messages.
    pub content_css: Option<String>,
    /// The document title.
    pub title: Option<Selector>,
    /// The publication date.
    pub date: Option<Selector>,
    /// Elements to remove before anything else.
    pub drop: Vec<Selector>,
    /// How often a known document is looked at again (`revisit_min`,
    /// `revisit_max`).
    pub revisit: Revisit,
    /// How long one crawl of the site may last (`max_crawl_time`).
    pub max_crawl_time: Option<Duration>,
    /// Query parameters of the site's URLs that say nothing of the page
    /// (`strip_params`), removed with the session ids and tracking
    /// parameters every site's URLs lose (`crate::canon`).
    pub strip_params: Vec<String>,
    /// Path segments beyond which a URL is a trap, not a page
    /// (`max_path_depth`, default 16).
    pub max_path_depth: u32,
    /// URLs one crawl of the site fetches at most (`max_pages`, default
    /// 200,000): the last backstop against an endless URL space.
    pub max_pages: u64,
    /// The site's own words of a deleted page (`gone_patterns`, regexes on
    /// a short page's title and text): such a page is a soft 404.
    pub gone_patterns: Vec<Arc<Regex>>,
    /// When `govsnap serve` crawls the site (`schedule`); `crawl` ignores it.
    pub schedule: Option<Schedule>,
    /// The Hanweb jpage parameters its pages do not carry (`jpage`).
    pub jpage: Option<JpageRules>,
    /// Whether the site's certificates are checked (`tls`).
    pub tls: Tls,
}

/// A site's `tls` (SPEC §7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Tls {
    /// `"verify"`: a certificate that is not valid fails the fetch.
    #[default]
    Verify,
    /// `"lenient"`: the fetch goes on, and records why the certificate was
    /// not valid (expired, self-signed, sent without its intermediate), as
    /// archival crawlers do for the many small sites that serve such.
    Lenient,
}

impl Tls {
    fn parse(text: &str) -> Result<Self, (String, String)> {
        match text {
            "verify" => Ok(Self::Verify),
            "lenient" => Ok(Self::Lenient),
            other => Err((
                "tls".to_owned(),
                format!("{other:?} is neither \"verify\" nor \"lenient\""),
            )),
        }
    }
}

/// A site's `jpage` table (SPEC §7–§8): what a Hanweb site's column pages
/// do not say of their data proxy. Any key but these three is a form field
/// jpage posts (`columnid`, `unitid`, `webid`, `webname` …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JpageRules {
    /// The form fields, in the order written (a column page's own win).
    pub params: Vec<(String, String)>,
    /// `per_page`: records per page (jpage's `perPage`).
    pub per_page: Option<u32>,
    /// `group_size`: pages per request (jpage's `groupSize`).
    pub group_size: Option<u32>,
    /// `proxy`: the data proxy's path, when not
    /// `/module/web/jpage/dataproxy.jsp`.
    pub proxy: Option<String>,
}

impl JpageRules {
    /// Read a `jpage` table; errors are `(key, reason)`.
    fn from_table(table: &toml::Table) -> Result<Self, (String, String)> {
        let mut rules = Self::default();
        for (key, value) in table {
            let bad = |what: &str| (format!("jpage.{key}"), format!("must be {what}"));
            let count = || {
                value
                    .as_integer()
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("a positive integer"))
            };
            match key.as_str() {
                "per_page" => rules.per_page = Some(count()?),
                "group_size" => rules.group_size = Some(count()?),
                "proxy" => {
                    let path = value.as_str().ok_or_else(|| bad("a path"))?;
                    rules.proxy = Some(path.to_owned());
                }
                _ => {
                    let text = match value {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(n) => n.to_string(),
                        _ => return Err(bad("a string or an integer")),
                    };
                    rules.params.push((key.clone(), text));
                }
            }
        }
        Ok(rules)
    }
}

/// Far enough ahead to mean "not again".
const NEVER: Duration = Duration::from_hours(100 * 365 * 24);

/// A site's `schedule` (SPEC §7): `"every DURATION"` or a 5-field cron line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// `every 6h`: this long after the last crawl started.
    Every(Duration),
    /// `0 3 * * *`: minute, hour, day of month, month, day of week, in the
    /// machine's local time zone, as cron reads it.
    Cron(Box<CronLine>),
}

/// A cron line, parsed (by `croner`: POSIX/Vixie cron's rules, month and
/// weekday names, `L` and `#`), and its text as written.
#[derive(Debug, Clone)]
pub struct CronLine {
    text: String,
    cron: croner::Cron,
}

impl PartialEq for CronLine {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for CronLine {}

impl CronLine {
    /// The line as written (fields separated by one space).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Every(d) => write!(f, "every {}", humantime::format_duration(*d)),
            Self::Cron(line) => f.write_str(line.as_str()),
        }
    }
}

impl Schedule {
    /// Parse `"every 6h"` or a 5-field cron line.
    ///
    /// # Errors
    /// Why the text is neither, in words for the config's error.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(every) = text.strip_prefix("every ") {
            return match humantime::parse_duration(every.trim()) {
                Ok(d) if d >= Duration::from_secs(1) => Ok(Self::Every(d)),
                Ok(_) => Err(format!("{text:?} is more often than once a second")),
                Err(e) => Err(format!("{text:?}: {e}; write \"every 6h\" or \"every 1d\"")),
            };
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "{text:?} is neither \"every DURATION\" (\"every 6h\") nor a 5-field cron line (\"0 3 * * *\")"
            ));
        }
        let line = fields.join(" ");
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Disallowed)
            .build()
            .parse(&line)
            .map_err(|e| format!("{text:?} is not a cron line: {e}"))?;
        if cron
            .find_next_occurrence(&chrono::Local::now(), false)
            .is_err()
        {
            return Err(format!("{text:?} names no time that comes again"));
        }
        Ok(Self::Cron(Box::new(CronLine { text: line, cron })))
    }

    /// When the crawl after one that started at `last_start` is due. A
    /// time in the past means due now: runs missed while the service was
    /// down make one crawl, not one each.
    #[must_use]
    pub fn next_after(&self, last_start: SystemTime) -> SystemTime {
        match self {
            Self::Every(d) => last_start + *d,
            Self::Cron(line) => {
                let start: chrono::DateTime<chrono::Local> = last_start.into();
                line.cron
                    .find_next_occurrence(&start, false)
                    // checked when parsed: only a line whose last time
                    // has passed since gets here
                    .map_or(last_start + NEVER, Into::into)
            }
        }
    }
}

impl SiteRules {
    /// Whether `url` is in the site's scope.
    #[must_use]
    pub fn in_scope(&self, url: &str) -> bool {
        self.allow.iter().any(|r| r.is_match(url)) && !self.deny.iter().any(|r| r.is_match(url))
    }

    /// Validate a raw site whose template (if any) is `template`; errors
    /// are `(key, reason)`.
    pub(super) fn from_raw(
        raw: &RawSite,
        template: Option<&RawRules>,
        regexes: &mut Regexes,
    ) -> Result<Self, (String, String)> {
        if raw.name.trim().is_empty() {
            return Err(("name".to_owned(), "must not be empty".to_owned()));
        }
        if raw.name.chars().any(char::is_control) {
            // the store keys a site's frontier `name ‖ 0x00 ‖ URL`
            return Err((
                "name".to_owned(),
                "must not hold control characters".to_owned(),
            ));
        }
        let rules = match template {
            Some(t) => raw.rules().over(t),
            None => raw.rules(),
        };
        let seeds: Vec<url::Url> = raw
            .seeds
            .iter()
            .map(|s| {
                url::Url::parse(s)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| ("seeds".to_owned(), format!("{s:?} is not an http(s) URL")))
            })
            .collect::<Result<_, _>>()?;
        let revisit = Revisit {
            min: duration("revisit_min", rules.revisit_min.as_deref())?
                .unwrap_or(DEFAULT_REVISIT_MIN),
            max: duration("revisit_max", rules.revisit_max.as_deref())?
                .unwrap_or(DEFAULT_REVISIT_MAX),
        };
        if revisit.min > revisit.max {
            return Err((
                "revisit_min".to_owned(),
                format!(
                    "{} is longer than revisit_max ({})",
                    humantime::format_duration(revisit.min),
                    humantime::format_duration(revisit.max)
                ),
            ));
        }
        // without `allow`, the seeds' hosts are the scope
        let allow = rules
            .allow
            .unwrap_or_else(|| seeds.iter().map(origin_pattern).collect());
        Ok(Self {
            name: raw.name.clone(),
            seeds,
            allow: regexes.compile_urls("allow", &allow)?,
            deny: regexes.compile_urls("deny", rules.deny.as_deref().unwrap_or_default())?,
            documents: regexes
                .compile_urls("documents", rules.documents.as_deref().unwrap_or_default())?,
            max_depth: rules.max_depth.unwrap_or(DEFAULT_MAX_DEPTH),
            content: rules
                .content
                .as_deref()
                .map(|s| selector("content", s))
                .transpose()?,
            content_css: rules.content.clone(),
            title: rules
                .title
                .as_deref()
                .map(|s| selector("title", s))
                .transpose()?,
            date: rules
                .date
                .as_deref()
                .map(|s| selector("date", s))
                .transpose()?,
            drop: rules
                .drop
                .iter()
                .flatten()
                .map(|s| selector("drop", s))
                .collect::<Result<_, _>>()?,
            revisit,
            max_crawl_time: duration("max_crawl_time", rules.max_crawl_time.as_deref())?,
            strip_params: rules.strip_params.clone().unwrap_or_default(),
            max_path_depth: rules.max_path_depth.unwrap_or(DEFAULT_MAX_PATH_DEPTH),
            max_pages: rules.max_pages.unwrap_or(DEFAULT_MAX_PAGES),
            gone_patterns: regexes.compile(
                "gone_patterns",
                rules.gone_patterns.as_deref().unwrap_or_default(),
            )?,
            schedule: rules
                .schedule
                .as_deref()
                .map(Schedule::parse)
                .transpose()
                .map_err(|reason| ("schedule".to_owned(), reason))?,
            jpage: rules
                .jpage
                .as_ref()
                .map(JpageRules::from_table)
                .transpose()?,
            tls: rules.tls.as_deref().map_or(Ok(Tls::Verify), Tls::parse)?,
        })
    }
}

/// An optional duration key of a site (see [`super::a_second_or_more`]).
fn duration(key: &str, text: Option<&str>) -> Result<Option<Duration>, (String, String)> {
    text.map(super::a_second_or_more)
        .transpose()
        .map_err(|reason| (key.to_owned(), reason))
}

/// `^http://host(:port)?/`: a seed's scheme and host, any path.
fn origin_pattern(seed: &url::Url) -> String {
    format!("^{}/", regex::escape(&seed.origin().ascii_serialization()))
}

/// A URL pattern of the config (`allow`, `deny`, `documents`), as a regex
/// matches it. One that is `^` and literal text, as every site without
/// `allow` gets from its seeds' origins, is a prefix test: a regex compiled
/// for each of a thousand hosts cost 16 MB of a thousand-site crawl.
#[derive(Debug, Clone)]
pub enum UrlPattern {
    /// URLs that start with this text.
    Prefix(Arc<str>),
    /// URLs the regex matches.
    Regex(Arc<Regex>),
}

impl UrlPattern {
    /// Whether `url` matches, as the regex it was written as would.
    #[must_use]
    pub fn is_match(&self, url: &str) -> bool {
        match self {
            Self::Prefix(prefix) => url.starts_with(&**prefix),
            Self::Regex(r) => r.is_match(url),
        }
    }

    /// The text a pattern written as `^` and literal characters (escaped
    /// punctuation included) stands for, or `None` when it is a regex.
    fn literal_prefix(pattern: &str) -> Option<String> {
        let mut chars = pattern.strip_prefix('^')?.chars();
        let mut text = String::with_capacity(pattern.len());
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e) if e.is_ascii_punctuation() && !matches!(e, '<' | '>') => {
                        text.push(e);
                    }
                    // \d, \w, \b, \< …: a class or an assertion
                    _ => return None,
                },
                '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$' => {
                    return None;
                }
                c => text.push(c),
            }
        }
        Some(text)
    }
}

/// The config's regexes, each pattern compiled once: the sites of one
/// template share theirs. A compiled regex costs tens of KB, and each
/// instance grows its own match caches (about 150 KB each over a crawl):
/// a thousand sites that compiled the template's `documents` pattern each
/// took 185 MB of a 1,000-site crawl's memory.
#[derive(Debug, Default)]
pub(super) struct Regexes(HashMap<String, Arc<Regex>>);

impl Regexes {
    fn compile(
        &mut self,
        key: &str,
        patterns: &[String],
    ) -> Result<Vec<Arc<Regex>>, (String, String)> {
        patterns
            .iter()
            .map(|p| {
                if let Some(r) = self.0.get(p) {
                    return Ok(Arc::clone(r));
                }
                let r = Arc::new(Regex::new(p).map_err(|e| {
                    let reason = e.to_string().lines().last().unwrap_or("").trim().to_owned();
                    (
                        key.to_owned(),
                        format!("{p:?} is not a valid regex ({reason})"),
                    )
                })?);
                self.0.insert(p.clone(), Arc::clone(&r));
                Ok(r)
            })
            .collect()
    }

    /// [`Regexes::compile`] for URL patterns: a literal prefix is kept as
    /// text.
    fn compile_urls(
        &mut self,
        key: &str,
        patterns: &[String],
    ) -> Result<Vec<UrlPattern>, (String, String)> {
        patterns
            .iter()
            .map(|p| match UrlPattern::literal_prefix(p) {
                Some(prefix) => Ok(UrlPattern::Prefix(prefix.into())),
                None => Ok(UrlPattern::Regex(
                    self.compile(key, std::slice::from_ref(p))?.remove(0),
                )),
            })
            .collect()
    }
}

fn selector(key: &str, css: &str) -> Result<Selector, (String, String)> {
    Selector::parse(css).map_err(|e| {
        (
            key.to_owned(),
            format!(
                "{css:?} is not a valid CSS selector: {}",
                selector_problem(&e)
            ),
        )
    })
}

/// What is wrong with a selector, in plain words. scraper's own text for
/// most mistakes is "Unexpected error occurred. Please report this to the
/// developer" and a debug dump; the kind is all it gives, so it is read
/// from there.
fn selector_problem(e: &scraper::error::SelectorErrorKind) -> &'static str {
    use scraper::error::SelectorErrorKind as K;
    match e {
        K::UnexpectedToken => "a character where none is allowed (check for stray punctuation)",
        K::EndOfLine => {
            "it ends too early (an unclosed bracket or quote, or a trailing combinator)"
        }
        K::InvalidAtRule | K::InvalidAtRuleBody => "@-rules are not selectors",
        K::QualRuleInvalid => "it is not a selector",
        K::TooManyNestedBlocks => "too many nested brackets",
        K::ExpectedColonOnPseudoElement | K::ExpectedIdentityOnPseudoElement => {
            "a pseudo-element (::name) needs its name"
        }
        K::UnexpectedSelectorParseError(kind) => match format!("{kind:?}").as_str() {
            "ClassNeedsIdent" => "a `.` must be followed by a class name (as in div.TRS_Editor)",
            "EmptySelector" => "it is empty (or has an empty part between commas)",
            "DanglingCombinator" => "a combinator (>, +, ~) has nothing after it",
            "NoIdentForPseudo" => "a `:` must be followed by a pseudo-class name",
            "UnsupportedPseudoClassOrElement" => "that pseudo-class is not supported",
            "NoQualifiedNameInAttributeSelector" | "InvalidQualNameInAttr" => {
                "an attribute selector [...] needs an attribute name"
            }
            "UnexpectedTokenInAttributeSelector" | "BadValueInAttr" | "ExpectedBarInAttr" => {
                "an attribute selector is malformed (write [name=\"value\"])"
            }
            "UnexpectedIdent" => "a name where none is allowed",
            _ => "it is not valid CSS selector syntax",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{Regexes, UrlPattern, origin_pattern};
    use regex::Regex;

    #[test]
    fn literal_prefixes_match_as_their_regexes_do() {
        let seed = url::Url::parse("http://xxgk-2.gov.cn:8080/col/index.html").unwrap();
        let origin = origin_pattern(&seed);
        let patterns = [
            (origin.as_str(), true),
            (r"^http://www\.gov\.cn/", true),
            (r"^https?://www\.gov\.cn/", false),
            (r"^http://www.gov.cn/", false),
            (r"^http://www\.gov\.cn/\d", false),
            (r"^http://www\.gov\.cn/$", false),
            (r"^http://www\.gov\.cn/\<", false),
            (r"(?i)^http://www\.gov\.cn/", false),
            ("www", false),
        ];
        let urls = [
            "http://xxgk-2.gov.cn:8080/col/art_1.html",
            "http://xxgk-2.gov.cn/",
            "http://xxgk-2.gov.cn:80801/",
            "http://www.gov.cn/zhengce/",
            "http://www.gov.cn/",
            "http://www.gov.cn/2",
            "HTTP://WWW.GOV.CN/",
            "https://www.gov.cn/",
            "http://wwwxgov.cn/",
            "http://www.gov.cnx/",
        ];
        for (pattern, literal) in patterns {
            let compiled = Regexes::default()
                .compile_urls("allow", &[pattern.to_owned()])
                .unwrap()
                .remove(0);
            assert_eq!(
                matches!(compiled, UrlPattern::Prefix(_)),
                literal,
                "{pattern}"
            );
            let regex = Regex::new(pattern).unwrap();
            for url in urls {
                assert_eq!(
                    compiled.is_match(url),
                    regex.is_match(url),
                    "{pattern} on {url}"
                );
            }
        }
        // a bad pattern is still refused, with the regex's reason
        let err = Regexes::default()
            .compile_urls("allow", &["^http://a(".to_owned()])
            .unwrap_err();
        assert_eq!(err.0, "allow");
    }
}
