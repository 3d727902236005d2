//! Who may ask what (SPEC §9). Bound to exactly `127.0.0.1` or `::1`, the
//! service answers reads without a token (only the machine's own users
//! reach it); bound anywhere else (`0.0.0.0`, a LAN address, even
//! `127.0.0.2`), every request but `/healthz` needs `Authorization: Bearer
//! TOKEN`. A POST starts a crawl, so it needs the token everywhere.
//!
//! The token is 32 random bytes in hex, created at first start with mode
//! 0600 and kept across restarts; it is compared through blake3 hashes,
//! whose equality is constant-time, so the time of a refusal says nothing
//! about how much of a guess was right.

use crate::error::{Error, Result};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

/// The token and where it is needed.
pub(crate) struct Access {
    token: blake3::Hash,
    open_reads: bool,
}

impl Access {
    /// Read the token at `file`, creating it (0600) when there is none.
    pub(crate) fn new(file: &Path, bound: IpAddr) -> Result<Self> {
        let token = match std::fs::read_to_string(file) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
            Ok(_) => return Err(io(file, std::io::Error::other("the token file is empty"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_token(file)?,
            Err(e) => return Err(io(file, e)),
        };
        Ok(Self {
            token: blake3::hash(token.as_bytes()),
            open_reads: bound == IpAddr::V4(Ipv4Addr::LOCALHOST)
                || bound == IpAddr::V6(Ipv6Addr::LOCALHOST),
        })
    }

    /// Whether reads need no token.
    pub(crate) fn open_reads(&self) -> bool {
        self.open_reads
    }

    /// Whether `given` is the service's token.
    pub(crate) fn token_is(&self, given: &str) -> bool {
        blake3::hash(given.trim().as_bytes()) == self.token
    }

    fn allows(&self, request: &Request) -> bool {
        let read = matches!(*request.method(), Method::GET | Method::HEAD);
        let needs_token = !read || !self.open_reads;
        let path = request.uri().path();
        if !needs_token || path == "/healthz" {
            return true;
        }
        // the site page's crawl form carries the token in its body, and
        // its handler checks it (a browser's form sends no header)
        if *request.method() == Method::POST
            && path.starts_with("/site/")
            && path.ends_with("/crawl")
        {
            return true;
        }
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| self.token_is(given))
    }
}

/// The middleware: 401 with a JSON error for a request without the token
/// it needs.
pub(crate) async fn check(
    State(shared): State<Arc<super::Shared>>,
    request: Request,
    next: Next,
) -> Response {
    if shared.access.allows(&request) {
        return next.run(request).await;
    }
    let why = if request.method() == Method::GET {
        "this service is not bound to loopback: send `Authorization: Bearer TOKEN` (the token is in the file serve.json names)"
    } else {
        "a POST needs `Authorization: Bearer TOKEN` (the token is in the file serve.json names)"
    };
    let mut response = super::api::ApiError::new(StatusCode::UNAUTHORIZED, why).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// A new token at `file`, readable by its owner only.
fn create_token(file: &Path) -> Result<String> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| io(file, std::io::Error::other(e.to_string())))?;
    let token = super::params::hex(&bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(file).map_err(|e| io(file, e))?;
    f.write_all(token.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(|e| io(file, e))?;
    tracing::info!(file = %file.display(), "created the service's token");
    Ok(token)
}

fn io(file: &Path, source: std::io::Error) -> Error {
    Error::Io {
        what: format!("the token file {}", file.display()),
        source,
    }
}
