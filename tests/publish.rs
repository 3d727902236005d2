//! `[publish]` (SPEC §14): every change of every shard's store in NATS
//! JetStream's stream `GOVSNAP`, with a real `nats-server`: each stored
//! version and gone mark exactly once, per page in order, each site from
//! one shard only, through a shard killed -9 mid-crawl and a NATS server
//! stopped mid-crawl; the files documents link among them; credentials
//! from files, TLS when the URL says so.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use common::nats::{Message, Nats, read_stream};
use common::service::{Service, wait_until};
use common::shards::{SITES, shard_of};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Notices per site.
const DOCS: u32 = 6;

/// Twelve district sites on one loopback server, each under its own
/// path: a list page and [`DOCS`] notices. Notice `i` answers once
/// `allowed` is above `i` (until then its request waits), `gone` ones 404,
/// and `edition` changes every notice's text.
#[derive(Clone)]
struct Sites {
    allowed: tokio::sync::watch::Sender<u32>,
    edition: Arc<AtomicU32>,
    gone: Arc<Mutex<HashSet<u32>>>,
}

impl Sites {
    fn start() -> (Self, SocketAddr) {
        let sites = Self {
            allowed: tokio::sync::watch::Sender::new(DOCS),
            edition: Arc::new(AtomicU32::new(1)),
            gone: Arc::default(),
        };
        let app = Router::new().fallback(page).with_state(sites.clone());
        (sites, common::serve_on_thread(app))
    }
}

async fn page(State(s): State<Sites>, uri: Uri) -> Response {
    let Some((site, file)) = uri.path().trim_start_matches('/').split_once('/') else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    if file == "index.html" {
        let links: String = (0..DOCS)
            .map(|i| format!("<li><a href=\"t20241105_{i}.html\">关于做好{site}第{i}批惠企政策兑现工作的通知</a><span>2024-11-05</span></li>"))
            .collect();
        return Html(format!(
            "<html><head><meta charset=\"utf-8\"><title>通知公告_{site}</title></head><body>\
             <div class=\"nav\"><a href=\"/\">首页</a> &gt; 政务公开 &gt; 通知公告</div>\
             <ul class=\"list\">{links}</ul><div class=\"footer\">主办：{site}人民政府 京ICP备05004470号</div></body></html>"
        ))
        .into_response();
    }
    if file == "fujian.csv" {
        // the list of companies the first notice links: a file of its own
        let edition = s.edition.load(Ordering::SeqCst);
        return (
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            format!("序号,企业名称,兑现金额（万元）\n1,某某科技有限公司,{edition}0\n2,某某制造有限公司,25\n"),
        )
            .into_response();
    }
    let Some(i) = file
        .strip_prefix("t20241105_")
        .and_then(|p| p.strip_suffix(".html"))
        .and_then(|n| n.parse::<u32>().ok())
    else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    if s.gone.lock().unwrap().contains(&i) {
        return (StatusCode::NOT_FOUND, "").into_response();
    }
    let _ = s.allowed.subscribe().wait_for(|n| i < *n).await;
    let edition = s.edition.load(Ordering::SeqCst);
    let attachment = if i == 0 {
        "<p>附件：<a href=\"fujian.csv\">第0批兑现企业名单.csv</a></p>"
    } else {
        ""
    };
    Html(format!(
        "<html><head><meta charset=\"utf-8\"><title>关于做好{site}第{i}批惠企政策兑现工作的通知_{site}</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a> &gt; 政务公开 &gt; 通知公告</div>\
         <div class=\"article\"><h1>关于做好{site}第{i}批惠企政策兑现工作的通知</h1>\
         <div class=\"info\">发布时间：2024-11-05　来源：区商务局</div>\
         <div class=\"TRS_Editor\"><p>各街道、各有关企业：</p>\
         <p>一、兑现范围</p><p>第{i}批符合条件的企业，按照第{edition}版实施细则申报，逾期不予受理。</p>\
         <p>二、工作要求</p><p>各单位要高度重视，按时报送材料，确保政策兑现及时到位。</p>{attachment}</div></div>\
         <div class=\"footer\">主办：{site}人民政府 京ICP备05004470号</div></body></html>"
    ))
    .into_response()
}

/// The twelve sites' config, publishing to `nats` with `publish` more keys.
fn config(dir: &Path, addr: SocketAddr, nats: &str, publish: &str) -> PathBuf {
    let mut text = format!(
        "[crawl]\nper_host_delay_ms = 0\nper_host_concurrency = 4\n\n[publish]\nnats = \"{nats}\"\n{publish}\n"
    );
    for name in SITES {
        text.push_str(&format!(
            "\n[[site]]\nname = \"{name}\"\nseeds = [\"http://{addr}/{name}/index.html\"]\n\
             allow = ['^http://{addr}/{name}/']\ndocuments = ['/t\\d{{8}}_\\d+\\.html$']\n"
        ));
    }
    let path = dir.join("govsnap.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn rows(service: &Service) -> Vec<Value> {
    service.api("/api/v1/sites").as_array().unwrap().clone()
}

/// Ask for a full crawl of each of the service's sites; their rows as they
/// were, to tell the new crawls' ends by. A crawl already running (one
/// that continues a killed one) is waited for too.
fn crawl_all(service: &Service) -> Vec<Value> {
    let before = rows(service);
    for row in &before {
        let name = row["name"].as_str().unwrap();
        let status = service.post(&format!("/api/v1/sites/{name}/crawl?full=true"), true);
        assert!(status == 202 || status == 409, "{name}: {status}");
    }
    before
}

/// Wait until every site's crawl that started after `before` has ended
/// (or the one already running then: a restarted shard continues its
/// killed crawls by itself, and asking for another gets a 409).
fn crawled(service: &Service, before: &[Value]) {
    wait_until("the crawls to end", || {
        rows(service)
            .iter()
            .zip(before)
            .all(|(now, then)| {
                !now["crawling"].as_bool().unwrap()
                    && !now["last_crawl"]["finished"].is_null()
                    && (then["crawling"] == true
                        || now["last_crawl"]["started"] != then["last_crawl"]["started"])
            })
            .then_some(())
    });
}

/// Wait until NATS has acknowledged every change of the service's store.
fn published(service: &Service) {
    wait_until("the publish lag to reach 0", || {
        rows(service)
            .iter()
            .all(|r| r["publish_lag"] == 0)
            .then_some(())
    });
}

/// A metric's value from `/metrics`.
fn metric(service: &Service, name: &str) -> f64 {
    let (status, body, _) = service.get_bytes("/metrics");
    assert_eq!(status, 200);
    String::from_utf8(body)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Every version a store holds, as `(url, version)`.
fn stored_versions(store: &Path) -> Vec<(String, u64)> {
    let out = common::ok(&common::govsnap(&[
        "export",
        "--store",
        store.to_str().unwrap(),
    ]));
    out.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            (
                v["url"].as_str().unwrap().to_owned(),
                v["version"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// What every consumer of the stream may rely on: each message once (by
/// id and by content), on its site's subject, and each page's versions
/// and gone marks in order.
fn check_stream(messages: &[Message]) {
    let mut ids = HashSet::new();
    let mut seen = HashSet::new();
    let mut last: HashMap<String, (u64, bool)> = HashMap::new();
    for m in messages {
        assert!(ids.insert(m.id.clone()), "message id {} twice", m.id);
        let url = m.line["url"].as_str().unwrap().to_owned();
        let version = m.line["version"].as_u64().unwrap();
        let gone = m.line["kind"] == "gone";
        assert!(
            seen.insert((url.clone(), version, gone)),
            "{url} version {version} (gone: {gone}) twice in the stream"
        );
        let site = m.line["site"].as_str().unwrap();
        assert_eq!(m.subject, format!("govsnap.changes.{site}"));
        let (store_id, cursor) = m.id.split_once(':').unwrap();
        assert_eq!(store_id.len(), 32, "{}", m.id);
        assert_eq!(cursor, m.line["cursor"].as_str().unwrap());
        if let Some(&(before, was_gone)) = last.get(&url) {
            assert!(
                version > before || (gone && !was_gone && version == before),
                "{url}: version {version} (gone: {gone}) after {before} (gone: {was_gone})"
            );
        }
        last.insert(url, (version, gone));
    }
}

#[test]
fn three_shards_publish_every_version_once_through_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let nats_dir = dir.path().join("nats");
    std::fs::create_dir(&nats_dir).unwrap();
    let nats = Nats::start(&nats_dir, &[]);
    let (sites, addr) = Sites::start();
    let config = config(dir.path(), addr, &nats.url(), "");
    let store = |k: u64| dir.path().join(format!("shard-{k}"));
    let start = |k: u64| {
        let shard = format!("{k}/3");
        let store = store(k);
        Service::start_with(
            &config,
            &store,
            "127.0.0.1:0",
            &["--shard", &shard, "--store", store.to_str().unwrap()],
        )
    };
    let mut shards: Vec<Service> = (0..3).map(start).collect();

    // a first crawl of every site, each by its own shard
    let before: Vec<_> = shards.iter().map(crawl_all).collect();
    for (shard, before) in shards.iter().zip(&before) {
        crawled(shard, before);
        published(shard);
    }
    let victim = shards
        .iter()
        .position(|s| rows(s).len() >= 2)
        .expect("a shard with two sites or more");
    let published_first = metric(&shards[victim], "govsnap_publish_messages_total");

    // the second: every notice edited, one gone, and the last ones held
    // back, so that the crawls are under way when one shard is killed
    sites.edition.store(2, Ordering::SeqCst);
    sites.gone.lock().unwrap().insert(DOCS - 1);
    sites.allowed.send_replace(2);
    let before: Vec<_> = shards.iter().map(crawl_all).collect();
    wait_until("the victim shard to publish new versions", || {
        (metric(&shards[victim], "govsnap_publish_messages_total") > published_first).then_some(())
    });
    shards[victim].child.kill().unwrap();
    shards[victim].child.wait().unwrap();
    sites.allowed.send_replace(DOCS);
    for (k, (shard, before)) in shards.iter().zip(&before).enumerate() {
        if k != victim {
            crawled(shard, before);
            published(shard);
        }
    }
    shards[victim] = start(victim as u64);
    let again = crawl_all(&shards[victim]);
    crawled(&shards[victim], &again);
    published(&shards[victim]);
    let gone: u64 = shards
        .iter()
        .flat_map(rows)
        .map(|r| r["gone"].as_u64().unwrap())
        .sum();
    assert_eq!(gone, SITES.len() as u64, "one notice of each site went");
    for shard in shards {
        assert!(shard.stop().success());
    }

    let messages = read_stream(&nats.url(), async_nats::ConnectOptions::new());
    check_stream(&messages);
    // every version of every store, and nothing else, with its gone marks
    let mut in_stream: Vec<(String, u64)> = messages
        .iter()
        .filter(|m| m.line["kind"] != "gone")
        .map(|m| {
            (
                m.line["url"].as_str().unwrap().to_owned(),
                m.line["version"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut stored: Vec<(String, u64)> = (0..3).flat_map(|k| stored_versions(&store(k))).collect();
    in_stream.sort();
    stored.sort();
    assert_eq!(in_stream, stored);
    assert!(
        stored.iter().filter(|(_, v)| *v == 2).count() >= SITES.len() * (DOCS as usize - 1),
        "the second crawl's versions are there too"
    );
    assert_eq!(
        messages.iter().filter(|m| m.line["kind"] == "gone").count(),
        SITES.len()
    );
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.line["kind"] == "attachment")
            .count(),
        SITES.len() * 2,
        "the file each site's first notice links, in both editions"
    );
    // each site from one store only, the store of the shard its name hashes to
    let mut store_of_site: HashMap<&str, &str> = HashMap::new();
    let mut store_of_shard: HashMap<u64, &str> = HashMap::new();
    for m in &messages {
        let site = m.line["site"].as_str().unwrap();
        let store_id = m.id.split_once(':').unwrap().0;
        assert_eq!(
            *store_of_site.entry(site).or_insert(store_id),
            store_id,
            "{site}"
        );
        let shard = shard_of(site, 3);
        assert_eq!(
            *store_of_shard.entry(shard).or_insert(store_id),
            store_id,
            "shard {shard}"
        );
    }
    assert_eq!(store_of_site.len(), SITES.len());
    assert_eq!(store_of_shard.len(), 3);
}

#[test]
fn a_nats_outage_costs_no_change_and_stops_no_crawl() {
    let dir = tempfile::tempdir().unwrap();
    let nats_dir = dir.path().join("nats");
    std::fs::create_dir(&nats_dir).unwrap();
    let mut nats = Nats::start(&nats_dir, &[]);
    let (sites, addr) = Sites::start();
    let config = config(dir.path(), addr, &nats.url(), "");
    let store = dir.path().join("store");
    let args = ["--store", store.to_str().unwrap()];
    let service = Service::start_with(&config, &store, "127.0.0.1:0", &args);
    let before = crawl_all(&service);
    crawled(&service, &before);
    published(&service);
    assert_eq!(metric(&service, "govsnap_publish_connected"), 1.0);

    // NATS goes down; a crawl finds new versions meanwhile
    nats.stop();
    let down = Instant::now();
    sites.edition.store(2, Ordering::SeqCst);
    let before = crawl_all(&service);
    crawled(&service, &before);
    let behind: u64 = rows(&service)
        .iter()
        .map(|r| r["publish_lag"].as_u64().unwrap())
        .sum();
    assert_eq!(
        behind,
        SITES.len() as u64 * u64::from(DOCS + 1),
        "every new version waits to be published, the files' too"
    );
    assert_eq!(metric(&service, "govsnap_publish_lag"), behind as f64);
    wait_until("the publisher to notice", || {
        (metric(&service, "govsnap_publish_connected") == 0.0).then_some(())
    });
    // down for ten seconds in all, as a restarting server may be
    std::thread::sleep(Duration::from_secs(10).saturating_sub(down.elapsed()));
    nats.restart();
    published(&service);
    assert!(service.stop().success());

    let messages = read_stream(&nats.url(), async_nats::ConnectOptions::new());
    check_stream(&messages);
    let mut in_stream: Vec<(String, u64)> = messages
        .iter()
        .map(|m| {
            (
                m.line["url"].as_str().unwrap().to_owned(),
                m.line["version"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut stored = stored_versions(&store);
    in_stream.sort();
    stored.sort();
    assert_eq!(in_stream, stored);
    // every notice twice, and the file the first one links in each edition
    assert_eq!(stored.len(), SITES.len() * (DOCS as usize + 1) * 2);
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.line["kind"] == "attachment")
            .count(),
        SITES.len() * 2
    );
}

/// A private root and a certificate for 127.0.0.1 it signed, as PEM files
/// in `dir`: (root, certificate, key).
fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut root = CertificateParams::new(Vec::<String>::new()).unwrap();
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = CertifiedIssuer::self_signed(root, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &root)
        .unwrap();
    let files = (
        dir.join("root.pem"),
        dir.join("nats.pem"),
        dir.join("nats-key.pem"),
    );
    std::fs::write(&files.0, root.pem()).unwrap();
    std::fs::write(&files.1, cert.pem()).unwrap();
    std::fs::write(&files.2, key.serialize_pem()).unwrap();
    files
}

/// `govsnap crawl` with `config`: its stderr, once it succeeded.
fn crawl(config: &Path) -> String {
    let out = common::govsnap(&["crawl", "--config", config.to_str().unwrap()]);
    common::ok(&out);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Versions in the stream as `(url, version)`, sorted.
fn versions_in(messages: &[Message]) -> Vec<(String, u64)> {
    let mut all: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                m.line["url"].as_str().unwrap().to_owned(),
                m.line["version"].as_u64().unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn credentials_come_from_files_and_tls_from_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let (_sites, addr) = Sites::start();
    let (root, cert, key) = tls_files(dir.path());
    let token = dir.path().join("nats.token");
    std::fs::write(&token, "not-the-token\n").unwrap();
    let nats_dir = dir.path().join("nats-tls");
    std::fs::create_dir(&nats_dir).unwrap();
    let (cert_arg, key_arg) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let nats = Nats::start(
        &nats_dir,
        &[
            "--tls",
            "--tlscert",
            cert_arg,
            "--tlskey",
            key_arg,
            "--auth",
            "s3cret-token",
        ],
    );
    let url = format!("tls://127.0.0.1:{}", nats.port);
    let config = config(
        dir.path(),
        addr,
        &url,
        &format!(
            "token_file = \"{}\"\nca_file = \"{}\"\nduplicate_window = \"2h\"",
            token.display(),
            root.display()
        ),
    );
    let store = dir.path().join("store");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("store = \"{}\"\n{text}", store.display())).unwrap();
    let consumer = || {
        async_nats::ConnectOptions::with_token("s3cret-token".to_owned())
            .add_root_certificates(root.clone())
            .require_tls(true)
    };

    // a refused token costs nothing: the crawl stores, says why it could
    // not publish, and the next run publishes what this one stored
    let stderr = crawl(&config);
    assert!(stderr.contains("NATS"), "{stderr}");
    assert!(stderr.contains("published at the next start"), "{stderr}");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    crawl(&config);
    let messages = read_stream(&url, consumer());
    check_stream(&messages);
    assert_eq!(versions_in(&messages), {
        let mut stored = stored_versions(&store);
        stored.sort();
        stored
    });
    assert_eq!(messages.len(), SITES.len() * (DOCS as usize + 1));

    // a user and password, and an nkey, each from its file
    let seed_user = nkeys::KeyPair::new_user();
    let auth = dir.path().join("auth.conf");
    std::fs::write(
        &auth,
        format!(
            "authorization {{ users = [ {{ user: govsnap, password: pw-from-file }}, {{ nkey: {} }} ] }}\n",
            seed_user.public_key()
        ),
    )
    .unwrap();
    let password = dir.path().join("nats.password");
    std::fs::write(&password, "pw-from-file").unwrap();
    let seed = dir.path().join("nats.nk");
    std::fs::write(&seed, seed_user.seed().unwrap()).unwrap();
    for (i, publish) in [
        format!(
            "user = \"govsnap\"\npassword_file = \"{}\"",
            password.display()
        ),
        format!("nkey_file = \"{}\"", seed.display()),
    ]
    .iter()
    .enumerate()
    {
        let nats_dir = dir.path().join(format!("nats-{i}"));
        std::fs::create_dir(&nats_dir).unwrap();
        let nats = Nats::start(&nats_dir, &["-c", auth.to_str().unwrap()]);
        let config = self::config(dir.path(), addr, &nats.url(), publish);
        let store = dir.path().join(format!("store-{i}"));
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("store = \"{}\"\n{text}", store.display())).unwrap();
        let stderr = crawl(&config);
        assert!(!stderr.contains("NATS"), "{publish}: {stderr}");
        let messages = read_stream(
            &nats.url(),
            async_nats::ConnectOptions::with_user_and_password(
                "govsnap".to_owned(),
                "pw-from-file".to_owned(),
            ),
        );
        assert_eq!(
            messages.len(),
            SITES.len() * (DOCS as usize + 1),
            "{publish}"
        );
    }
}
