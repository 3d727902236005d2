//! The API's query parameters, read from the raw query string and checked
//! one by one: a malformed URL, version, cursor, limit or wait is a 400 that
//! names the parameter and what it should be, never a 500 or a panic.
//! Unknown parameters are ignored, as browsers and proxies add their own.

use super::api::ApiError;
use crate::store::{ChangeCursor, Since};
use axum::http::StatusCode;
use std::collections::HashMap;
use std::time::Duration;

/// The most items one request returns (`limit` above it is capped).
pub(crate) const MAX_LIMIT: usize = 1000;
/// Items a request returns without `limit`.
pub(crate) const DEFAULT_LIMIT: usize = 100;
/// The longest a long poll is held (`wait` above it is capped).
pub(crate) const MAX_WAIT: Duration = Duration::from_mins(1);

/// A request's query parameters.
#[derive(Debug, Default)]
pub(crate) struct Params(HashMap<String, String>);

type Checked<T> = Result<T, ApiError>;

fn bad(name: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, format!("parameter {name}: {why}"))
}

impl Params {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// A parameter, `None` when absent or empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `url`, required: an absolute http(s) URL, as stored.
    pub(crate) fn url(&self) -> Checked<String> {
        let raw = self
            .get("url")
            .ok_or_else(|| bad("url", "missing: give the page's URL, percent-encoded"))?;
        match url::Url::parse(raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(raw.to_owned()),
            _ => Err(bad("url", format!("{raw:?} is not an http(s) URL"))),
        }
    }

    /// A version number (1, 2, …), if given.
    pub(crate) fn version(&self, name: &str) -> Checked<Option<u32>> {
        self.get(name)
            .map(|v| match v.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(bad(
                    name,
                    format!("{v:?} is not a version number (1, 2, …)"),
                )),
            })
            .transpose()
    }

    /// `limit`: 1 or more, capped at [`MAX_LIMIT`].
    pub(crate) fn limit(&self) -> Checked<usize> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n > 0 => Ok(usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT)),
                _ => Err(bad(
                    "limit",
                    format!("{v:?} is not a number from 1 to {MAX_LIMIT}"),
                )),
            },
        }
    }

    /// `wait`: seconds, capped at [`MAX_WAIT`].
    pub(crate) fn wait(&self) -> Checked<Duration> {
        match self.get("wait") {
            None => Ok(Duration::ZERO),
            Some(v) => v
                .parse::<u64>()
                .map(|s| Duration::from_secs(s).min(MAX_WAIT))
                .map_err(|_| {
                    bad(
                        "wait",
                        format!("{v:?} is not a number of seconds (0 to 60)"),
                    )
                }),
        }
    }

    /// A cursor of the changes feed, if given.
    pub(crate) fn change_cursor(&self, name: &str) -> Checked<Option<ChangeCursor>> {
        self.get(name)
            .map(|v| v.parse().map_err(|e| bad(name, e)))
            .transpose()
    }

    /// `since`: a cursor of the changes feed or a time.
    pub(crate) fn since(&self) -> Checked<Option<Since>> {
        self.get("since")
            .map(|v| v.parse().map_err(|e| bad("since", e)))
            .transpose()
    }

    /// `cursor` of the pages listing: `p` and the hex of the last URL.
    pub(crate) fn page_cursor(&self) -> Checked<Option<String>> {
        let Some(v) = self.get("cursor") else {
            return Ok(None);
        };
        let hex = v.strip_prefix('p').unwrap_or("");
        let bytes: Option<Vec<u8>> = (hex.len() % 2 == 0)
            .then(|| {
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                    .collect()
            })
            .flatten();
        bytes
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| !s.is_empty())
            .map(Some)
            .ok_or_else(|| {
                bad(
                    "cursor",
                    format!("{v:?} is not a cursor of this listing: use its next_cursor"),
                )
            })
    }

    /// One of `allowed`, or `default` when absent.
    pub(crate) fn choice<'a>(
        &'a self,
        name: &str,
        allowed: &[&'a str],
        default: &'a str,
    ) -> Checked<&'a str> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if allowed.contains(&v) => Ok(v),
            Some(v) => Err(bad(
                name,
                format!("{v:?} is not one of {}", allowed.join(", ")),
            )),
        }
    }
}

/// The pages listing's cursor after `url`.
pub(crate) fn page_cursor(url: &str) -> String {
    format!("p{}", hex(url.as_bytes()))
}

/// Bytes as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Params {
        Params::parse(Some(q))
    }

    #[test]
    fn malformed_values_are_refused_with_the_parameter_named() {
        for (q, name) in [
            ("url=not%20a%20url", "url"),
            ("url=ftp%3A%2F%2Fx.gov.cn%2F", "url"),
            ("version=0", "version"),
            ("version=-1", "version"),
            ("version=1.5", "version"),
            ("limit=0", "limit"),
            ("limit=abc", "limit"),
            ("wait=-3", "wait"),
            ("cursor=p0", "cursor"),
            ("cursor=zz", "cursor"),
            ("since=c12", "since"),
        ] {
            let params = p(q);
            let err = match name {
                "url" => params.url().err(),
                "version" => params.version("version").err(),
                "limit" => params.limit().err(),
                "wait" => params.wait().err(),
                "cursor" => params.page_cursor().err(),
                _ => params.since().err(),
            }
            .unwrap_or_else(|| panic!("{q} was accepted"));
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains(name), "{q}: {}", err.message);
        }
    }

    #[test]
    fn limits_and_waits_are_capped_and_cursors_round_trip() {
        assert_eq!(p("limit=999999999999").limit().unwrap(), MAX_LIMIT);
        assert_eq!(p("").limit().unwrap(), DEFAULT_LIMIT);
        assert_eq!(p("wait=3600").wait().unwrap(), MAX_WAIT);
        let url = "http://www.gov.cn/zhengce/content/2024-03/01/content_1.htm?a=中文";
        let cursor = page_cursor(url);
        assert_eq!(
            p(&format!("cursor={cursor}"))
                .page_cursor()
                .unwrap()
                .as_deref(),
            Some(url)
        );
        assert!(p("url=http%3A%2F%2Fwww.gov.cn%2F").url().is_ok());
    }
}
