//! `[publish]`: where a process hands its store's changes on (SPEC §14),
//! and how it proves who it is. Secrets are never written in the config
//! itself: the config names files (a Kubernetes Secret mounted as files,
//! or files only the service's user reads), and they are read when the
//! publisher connects, so that a rotated secret needs only a restart.

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[publish]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPublish {
    pub nats: String,
    pub token_file: Option<PathBuf>,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub nkey_file: Option<PathBuf>,
    pub credentials_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub replicas: Option<usize>,
    pub duplicate_window: Option<String>,
}

/// How the publisher proves who it is to NATS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatsAuth {
    /// No credentials.
    None,
    /// `token_file`: the file holds the token.
    Token(PathBuf),
    /// `user` and `password_file`.
    UserPassword {
        /// The user name.
        user: String,
        /// The file that holds the password.
        password_file: PathBuf,
    },
    /// `nkey_file`: the file holds the nkey's seed (`SU…`).
    Nkey(PathBuf),
    /// `credentials_file`: a `.creds` file (a user JWT and its nkey seed).
    Credentials(PathBuf),
}

/// A validated `[publish]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSettings {
    /// The server's URL, or several separated by commas: `nats://` or
    /// `tls://` (which requires TLS).
    pub nats: String,
    /// Whether the URL asks for TLS.
    pub tls: bool,
    /// Credentials.
    pub auth: NatsAuth,
    /// Certificates (PEM) trusted besides the system's, for a server whose
    /// certificate a private authority signed.
    pub ca_file: Option<PathBuf>,
    /// The stream's replicas when govsnap creates it (a 3-node JetStream
    /// cluster: 3).
    pub replicas: usize,
    /// How long the stream remembers a message id: a change published
    /// again within it is stored once.
    pub duplicate_window: Duration,
}

/// The stream's duplicate window unless the config says: longer than any
/// outage a shard's restart covers, so a change published again after a
/// kill is still recognised.
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_hours(1);

impl PublishSettings {
    /// Validate `[publish]`; an error is `(key, reason)`.
    pub(super) fn from_raw(raw: RawPublish) -> Result<Self, (&'static str, String)> {
        let servers: Vec<&str> = raw.nats.split(',').map(str::trim).collect();
        let mut tls = false;
        for server in &servers {
            match server.split_once("://") {
                Some(("nats", rest)) if !rest.is_empty() => {}
                Some(("tls", rest)) if !rest.is_empty() => tls = true,
                _ => {
                    return Err((
                        "nats",
                        format!(
                            "{server:?} is not a NATS server's URL; write \"nats://HOST:4222\" (or \"tls://HOST:4222\" for TLS)"
                        ),
                    ));
                }
            }
        }
        let auth = match (
            raw.token_file,
            raw.user,
            raw.password_file,
            raw.nkey_file,
            raw.credentials_file,
        ) {
            (None, None, None, None, None) => NatsAuth::None,
            (Some(file), None, None, None, None) => NatsAuth::Token(file),
            (None, Some(user), Some(password_file), None, None) => NatsAuth::UserPassword {
                user,
                password_file,
            },
            (None, Some(_), None, None, None) => {
                return Err((
                    "password_file",
                    "`user` needs `password_file`, a file that holds the password".to_owned(),
                ));
            }
            (None, None, Some(_), None, None) => {
                return Err((
                    "user",
                    "`password_file` needs the `user` it belongs to".to_owned(),
                ));
            }
            (None, None, None, Some(file), None) => NatsAuth::Nkey(file),
            (None, None, None, None, Some(file)) => NatsAuth::Credentials(file),
            _ => {
                return Err((
                    "nats",
                    "give one way to authenticate: token_file, user with password_file, nkey_file or credentials_file".to_owned(),
                ));
            }
        };
        let replicas = raw.replicas.unwrap_or(1);
        if !(1..=5).contains(&replicas) {
            return Err((
                "replicas",
                format!("{replicas} replicas: JetStream takes 1 to 5"),
            ));
        }
        let duplicate_window = raw
            .duplicate_window
            .as_deref()
            .map_or(Ok(DEFAULT_DUPLICATE_WINDOW), super::a_second_or_more)
            .map_err(|reason| ("duplicate_window", reason))?;
        Ok(Self {
            nats: servers.join(","),
            tls,
            auth,
            ca_file: raw.ca_file,
            replicas,
            duplicate_window,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PublishSettings, (&'static str, String)> {
        PublishSettings::from_raw(toml::from_str(text).unwrap())
    }

    #[test]
    fn a_url_and_its_defaults() {
        let s = parse(r#"nats = "nats://127.0.0.1:4222""#).unwrap();
        assert!(!s.tls);
        assert_eq!(s.auth, NatsAuth::None);
        assert_eq!(s.replicas, 1);
        assert_eq!(s.duplicate_window, DEFAULT_DUPLICATE_WINDOW);
        let s = parse(r#"nats = "tls://a:4222, tls://b:4222""#).unwrap();
        assert!(s.tls);
        assert_eq!(s.nats, "tls://a:4222,tls://b:4222");
    }

    #[test]
    fn credentials_come_from_files_one_way_at_a_time() {
        let s = parse("nats = \"nats://h:4222\"\nuser = \"govsnap\"\npassword_file = \"/run/pw\"")
            .unwrap();
        assert_eq!(
            s.auth,
            NatsAuth::UserPassword {
                user: "govsnap".to_owned(),
                password_file: "/run/pw".into()
            }
        );
        let s = parse("nats = \"nats://h:4222\"\nnkey_file = \"/run/seed\"").unwrap();
        assert_eq!(s.auth, NatsAuth::Nkey("/run/seed".into()));
        assert_eq!(
            parse("nats = \"nats://h\"\nuser = \"u\"").unwrap_err().0,
            "password_file"
        );
        assert_eq!(
            parse("nats = \"nats://h\"\ntoken_file = \"t\"\nnkey_file = \"k\"")
                .unwrap_err()
                .0,
            "nats"
        );
        // a secret inline is refused by name, not taken
        assert!(toml::from_str::<RawPublish>("nats = \"nats://h\"\ntoken = \"s3cret\"").is_err());
    }

    #[test]
    fn bad_urls_replicas_and_windows_are_named() {
        assert_eq!(parse(r#"nats = "http://h:4222""#).unwrap_err().0, "nats");
        assert_eq!(parse(r#"nats = "h:4222""#).unwrap_err().0, "nats");
        assert_eq!(
            parse("nats = \"nats://h\"\nreplicas = 7").unwrap_err().0,
            "replicas"
        );
        assert_eq!(
            parse("nats = \"nats://h\"\nduplicate_window = \"soon\"")
                .unwrap_err()
                .0,
            "duplicate_window"
        );
        let s = parse("nats = \"nats://h\"\nduplicate_window = \"2h\"").unwrap();
        assert_eq!(s.duplicate_window, Duration::from_hours(2));
    }
}
