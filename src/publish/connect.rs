//! A connection to NATS as `[publish]` describes it, and the stream the
//! changes go to, created when missing.

use super::PublishStatus;
use crate::config::{NatsAuth, PublishSettings};
use async_nats::jetstream::{self, stream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The stream every shard publishes to (SPEC §14).
pub const STREAM: &str = "GOVSNAP";
/// The stream's subjects.
pub const SUBJECTS: &str = "govsnap.changes.>";
/// How long one attempt to reach the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause before a reconnection grows by this per failed attempt...
const RECONNECT_STEP: Duration = Duration::from_millis(250);
/// ...up to this.
const RECONNECT_MAX: Duration = Duration::from_secs(2);
/// How long the server may take to acknowledge a message: long enough for a
/// JetStream cluster electing a leader, short enough that a dead connection
/// is noticed and the batch tried again.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect, and make sure the stream is there.
///
/// # Errors
/// A one-line reason: a credentials file that cannot be read, a server
/// that cannot be reached or refuses the credentials, a stream that cannot
/// be created.
pub(super) async fn connect(
    settings: &PublishSettings,
    name: &str,
    status: &Arc<PublishStatus>,
    reconnected: &Arc<Notify>,
) -> Result<jetstream::Context, String> {
    // async-nats builds its TLS config on the process's provider
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut options = match &settings.auth {
        NatsAuth::None => async_nats::ConnectOptions::new(),
        NatsAuth::Token(file) => async_nats::ConnectOptions::with_token(secret(file)?),
        NatsAuth::UserPassword {
            user,
            password_file,
        } => {
            async_nats::ConnectOptions::with_user_and_password(user.clone(), secret(password_file)?)
        }
        NatsAuth::Nkey(file) => async_nats::ConnectOptions::with_nkey(secret(file)?),
        NatsAuth::Credentials(file) => async_nats::ConnectOptions::with_credentials_file(file)
            .await
            .map_err(|e| format!("reading the NATS credentials {}: {e}", file.display()))?,
    }
    .name(name)
    .connection_timeout(CONNECT_TIMEOUT)
    // the client reconnects by itself for as long as the process runs:
    // the publisher waits for it, reading nothing ahead
    .max_reconnects(None)
    // a restarting server is back within seconds: try often, not ever
    // more seldom as the client's default does
    .reconnect_delay_callback(|attempts| {
        RECONNECT_STEP
            .saturating_mul(u32::try_from(attempts).unwrap_or(u32::MAX))
            .min(RECONNECT_MAX)
    })
    .event_callback({
        let (status, reconnected) = (Arc::clone(status), Arc::clone(reconnected));
        move |event| {
            match event {
                async_nats::Event::Connected => {
                    status.set_connected(true);
                    // a publisher pausing after a failure goes on at once
                    reconnected.notify_one();
                }
                async_nats::Event::Disconnected => status.set_connected(false),
                _ => {}
            }
            std::future::ready(())
        }
    })
    .require_tls(settings.tls);
    if let Some(ca) = &settings.ca_file {
        options = options.add_root_certificates(ca.clone());
    }
    let servers: Vec<async_nats::ServerAddr> = settings
        .nats
        .split(',')
        .map(|s| {
            s.parse()
                .map_err(|e| format!("the NATS server {s:?} is not an address: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let client = options
        .connect(servers)
        .await
        .map_err(|e| format!("connecting to NATS at {}: {e}", settings.nats))?;
    let mut js = jetstream::new(client);
    js.set_timeout(ACK_TIMEOUT);
    js.get_or_create_stream(stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![SUBJECTS.to_owned()],
        duplicate_window: settings.duplicate_window,
        num_replicas: settings.replicas,
        storage: stream::StorageType::File,
        ..stream::Config::default()
    })
    .await
    .map_err(|e| {
        format!(
            "creating the JetStream stream {STREAM} on {}: {e}",
            settings.nats
        )
    })?;
    Ok(js)
}

/// A secret file's content, less the line end editors and `echo` add.
fn secret(file: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!(
            "reading the NATS secret {}: {e}; [publish] names files that hold secrets",
            file.display()
        )
    })?;
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("the NATS secret {} is empty", file.display()));
    }
    Ok(text.to_owned())
}

/// The subject of a site's changes: `govsnap.changes.SITE`. A subject's
/// tokens are split by `.` and may not hold spaces or the wildcards `*`
/// and `>`, so those become `_` (a site name rarely holds any); changes of
/// no site go to `govsnap.changes._`.
#[must_use]
pub fn subject(site: Option<&str>) -> String {
    let token: String = match site {
        Some(name) if !name.is_empty() => name
            .chars()
            .map(|c| {
                if c == '.' || c == '*' || c == '>' || c.is_whitespace() || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect(),
        _ => "_".to_owned(),
    };
    format!("govsnap.changes.{token}")
}

#[cfg(test)]
mod tests {
    use super::subject;

    #[test]
    fn a_site_is_one_token_of_the_subject() {
        assert_eq!(
            subject(Some("tianjin-hexi")),
            "govsnap.changes.tianjin-hexi"
        );
        assert_eq!(subject(Some("河西区")), "govsnap.changes.河西区");
        assert_eq!(subject(Some("a.b c*>")), "govsnap.changes.a_b_c__");
        assert_eq!(subject(None), "govsnap.changes._");
        assert_eq!(subject(Some("")), "govsnap.changes._");
    }
}
