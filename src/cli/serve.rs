//! `govsnap serve --config FILE [--listen ADDR] [--token-file FILE] [--shard K/N]`: the
//! long-running form (SPEC §9). Crawls each site on its schedule and serves
//! the store over HTTP until SIGTERM or Ctrl-C, then finishes the pages in
//! flight, flushes and exits 0.

use super::Status;
use anyhow::{Context, Result};
use clap::Args;
use govsnap::Config;
use govsnap::config::Shard;
use govsnap::serve::{DEFAULT_LISTEN, ServeFile, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// The config: its sites, their schedules, and its store.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The address to listen on. Bound to exactly `127.0.0.1` or `[::1]`, reads
    /// need no token; anywhere else every request but /healthz needs it.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The token's file [default: STORE/serve.token, created 0600 at first start].
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The store directory [default: the config's `store`].
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Serve only the sites whose name hashes to shard K of N (FNV-1a of the
    /// name, modulo N; docs/SCALING.md), each shard with its own --store.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

pub(super) fn run(args: &ServeArgs) -> Result<Status> {
    let mut config = Config::load(&args.config)?;
    if let Some(shard) = args.shard {
        let dropped = config.keep_shard(shard);
        tracing::info!(%shard, sites = config.sites.len(), others = dropped, "serving one shard of the config's sites");
    }
    let store_dir = args.store.clone().unwrap_or_else(|| config.store.clone());
    if let Some(running) = ServeFile::running(&store_dir) {
        anyhow::bail!(
            "govsnap serve already runs on the store {} at {} (pid {})",
            store_dir.display(),
            running.base_url(),
            running.pid
        );
    }
    let store = super::open_for_writing(&store_dir, None)?;
    let runtime = super::runtime()?;
    let options = ServeOptions {
        listen: args.listen,
        token_file: args.token_file.clone(),
    };
    runtime
        .block_on(govsnap::serve::serve(
            config,
            store,
            &store_dir,
            options,
            super::crawl::interrupted(),
        ))
        .context("govsnap serve stopped")?;
    Ok(Status::Success)
}
