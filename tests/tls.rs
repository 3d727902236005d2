//! A site's `tls = "lenient"` (SPEC §7, issue 33), through the real binary
//! against loopback HTTPS sites whose certificates are broken the ways
//! county sites' are: a chain sent without its intermediate, a self-signed
//! certificate, an expired one. A private root stands in for the public
//! authorities (the machine's trust store is read from `SSL_CERT_FILE`, as
//! the TLS stack does everywhere), so the complete chain verifies and each
//! broken one fails for its own reason.

mod common;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// A county bureau's column and its two notices.
fn county_site(name: &'static str) -> Router {
    let page = move |title: String, body: String| {
        Html(format!(
            "<html><head><meta charset=\"utf-8\"><title>{title}_{name}</title></head><body>\
             <div class=\"nav\"><a href=\"/\">首页</a> &gt; 政务公开 &gt; 通知公告</div>{body}\
             <div class=\"footer\">主办：{name} 备案号：皖ICP备05001234号</div></body></html>"
        ))
    };
    Router::new()
        .route(
            "/zwgk/tzgg/index.html",
            get(move || async move {
                page(
                    "通知公告".to_owned(),
                    "<ul class=\"list\"><li><a href=\"t20241105_1.html\">关于开展冬季安全检查的通知</a></li>\
                     <li><a href=\"t20241106_2.html\">关于做好2025年度惠民补贴申报工作的通知</a></li></ul>"
                        .to_owned(),
                )
            }),
        )
        .route(
            "/zwgk/tzgg/{doc}",
            get(move |axum::extract::Path(doc): axum::extract::Path<String>| async move {
                let title = if doc.ends_with("_1.html") {
                    "关于开展冬季安全检查的通知"
                } else {
                    "关于做好2025年度惠民补贴申报工作的通知"
                };
                page(
                    title.to_owned(),
                    format!(
                        "<div class=\"article\"><h1>{title}</h1><div class=\"info\">发布日期：2024-11-05　来源：{name}</div>\
                         <div class=\"TRS_Editor\"><p>各乡镇人民政府，县直各单位：</p>\
                         <p>一、工作内容</p><p>请各单位于11月30日前完成自查并报送材料，逾期不予受理。</p>\
                         <p>二、工作要求</p><p>各单位要高度重视，明确责任人，确保按时完成。</p></div></div>"
                    ),
                )
            }),
        )
}

/// Serve `app` over TLS with `chain` (the leaf first) and `key`.
fn serve_tls(
    app: Router,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> SocketAddr {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    common::listen_on_thread("127.0.0.1:0", move |listener| async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // a client that refuses the certificate ends the handshake
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
            });
        }
    })
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params
}

fn leaf_params() -> CertificateParams {
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "www.example-county.gov.cn");
    params
}

fn key_der(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivatePkcs8KeyDer::from(key.serialize_der()).into()
}

/// The four sites, their certificates made: `(name, tls, address)`.
struct Sites {
    root_pem: String,
    sites: Vec<(&'static str, &'static str, SocketAddr)>,
}

fn sites() -> Sites {
    let root =
        CertifiedIssuer::self_signed(ca_params("govsnap test root"), KeyPair::generate().unwrap())
            .unwrap();
    let intermediate = CertifiedIssuer::signed_by(
        ca_params("govsnap test intermediate"),
        KeyPair::generate().unwrap(),
        &root,
    )
    .unwrap();
    let chained = |params: CertificateParams| {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &intermediate).unwrap();
        (cert.der().clone(), key_der(&key))
    };
    let mut sites = Vec::new();
    // the whole chain: valid
    let (leaf, key) = chained(leaf_params());
    sites.push((
        "county-full",
        "verify",
        serve_tls(
            county_site("某某县人民政府"),
            vec![leaf, intermediate.der().clone()],
            key,
        ),
    ));
    // the leaf alone: its issuer cannot be found
    let (leaf, key) = chained(leaf_params());
    sites.push((
        "county-nochain",
        "lenient",
        serve_tls(county_site("某某县教育局"), vec![leaf], key),
    ));
    // self-signed
    let key = KeyPair::generate().unwrap();
    let leaf = leaf_params().self_signed(&key).unwrap();
    sites.push((
        "county-selfsigned",
        "lenient",
        serve_tls(
            county_site("某某县卫生健康委员会"),
            vec![leaf.der().clone()],
            key_der(&key),
        ),
    ));
    // expired at the start of 2024, its chain whole
    let mut params = leaf_params();
    params.not_before = date_time_ymd(2022, 1, 1);
    params.not_after = date_time_ymd(2024, 1, 1);
    let (leaf, key) = chained(params);
    sites.push((
        "county-expired",
        "lenient",
        serve_tls(
            county_site("某某县财政局"),
            vec![leaf, intermediate.der().clone()],
            key,
        ),
    ));
    Sites {
        root_pem: root.pem(),
        sites,
    }
}

fn write_config(dir: &Path, sites: &[(&str, &str, SocketAddr)], file: &str) -> String {
    let mut text = format!(
        "store = \"{}\"\n[crawl]\nper_host_delay_ms = 0\nper_host_concurrency = 2\n",
        dir.join("store").display()
    );
    for (name, tls, addr) in sites {
        text.push_str(&format!(
            "\n[[site]]\nname = \"{name}\"\nseeds = [\"https://{addr}/zwgk/tzgg/index.html\"]\n\
             documents = ['/t\\d{{8}}_\\d+\\.html$']\ntls = \"{tls}\"\n"
        ));
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Run the binary with the test root as the machine's only trusted one.
fn govsnap(roots: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .env("SSL_CERT_FILE", roots)
        .env_remove("SSL_CERT_DIR")
        .args(args)
        .output()
        .unwrap()
}

/// What each lenient site's fetches must say, by site.
fn expected(site: &str) -> Option<&'static str> {
    match site {
        "county-full" => None,
        "county-nochain" => Some("incomplete chain"),
        "county-selfsigned" => Some("self-signed"),
        "county-expired" => Some("certificate expired 2024-01-01"),
        other => panic!("no site {other}"),
    }
}

#[test]
fn lenient_sites_are_archived_with_why_their_certificates_were_not_valid() {
    let dir = tempfile::tempdir().unwrap();
    let Sites { root_pem, sites } = sites();
    let roots = dir.path().join("roots.pem");
    std::fs::write(&roots, root_pem).unwrap();

    // strict by default: the chain without its intermediate is refused,
    // nothing of it archived, and the error says what would archive it
    let strict: Vec<_> = sites
        .iter()
        .filter(|(name, ..)| *name == "county-nochain")
        .map(|&(name, _, addr)| (name, "verify", addr))
        .collect();
    let config = write_config(dir.path(), &strict, "strict.toml");
    let out = govsnap(&roots, &["crawl", "--config", &config, "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "an unreachable site exits 3");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = summary["error"].as_str().unwrap();
    assert!(
        error.contains("certificate") && error.contains("tls = \"lenient\""),
        "{error}"
    );
    assert_eq!(summary["new_versions"], 0);

    let config = write_config(dir.path(), &sites, "govsnap.toml");
    let out = govsnap(&roots, &["crawl", "--config", &config, "--format", "json"]);
    let summary = common::ok(&out);
    for line in summary.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        let site = row["site"].as_str().unwrap();
        assert_eq!(row["error"], Value::Null, "{site}: {row}");
        assert_eq!(row["new_versions"], 2, "{site}: its two notices");
        match expected(site) {
            Some(why) => assert!(
                row["tls_invalid"].as_str().is_some_and(|t| t.contains(why)),
                "{site}: {row}"
            ),
            // the complete chain verifies, under either setting
            None => assert!(row.get("tls_invalid").is_none(), "{site}: {row}"),
        }
    }

    // the fetch log and every version say why, fetch by fetch
    let store = govsnap::Store::open_existing(&dir.path().join("store")).unwrap();
    let site_of = |url: &str| {
        sites
            .iter()
            .find(|(_, _, addr)| url.starts_with(&format!("https://{addr}/")))
            .map(|(name, ..)| *name)
            .unwrap()
    };
    let mut logged = 0;
    for entry in store.fetch_log() {
        let entry = entry.unwrap();
        let site = site_of(&entry.url);
        match expected(site) {
            Some(why) => assert!(
                entry
                    .tls_invalid
                    .as_deref()
                    .is_some_and(|t| t.contains(why)),
                "{site}: {entry:?}"
            ),
            None => assert_eq!(entry.tls_invalid, None, "{entry:?}"),
        }
        logged += 1;
    }
    assert!(logged >= 12, "every fetch logged: {logged}");
    for &(name, _, addr) in &sites {
        let url = format!("https://{addr}/zwgk/tzgg/t20241105_1.html");
        let version = store.latest(&url).unwrap().expect("archived");
        assert_eq!(
            version.record.title.as_deref(),
            Some("关于开展冬季安全检查的通知")
        );
        assert_eq!(
            version.tls_invalid.is_some(),
            expected(name).is_some(),
            "{name}: {:?}",
            version.tls_invalid
        );
    }
    drop(store);

    // the WARC's metadata records say why beside the record
    let warc = dir.path().join("out.warc.gz");
    common::ok(&common::govsnap(&[
        "export",
        "--config",
        &config,
        "--format",
        "warc",
        "--output",
        warc.to_str().unwrap(),
    ]));
    let index = Command::new(common::tool("warcio"))
        .args([
            "index",
            "--fields",
            "warc-type,warc-refers-to-target-uri,govsnap-tls-invalid",
        ])
        .arg(&warc)
        .output()
        .unwrap();
    let index = common::ok(&index);
    let mut noted = 0;
    for line in index.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        if record["warc-type"] != "metadata" {
            continue;
        }
        let site = site_of(record["warc-refers-to-target-uri"].as_str().unwrap());
        match expected(site) {
            Some(why) => {
                assert!(
                    record["govsnap-tls-invalid"]
                        .as_str()
                        .is_some_and(|t| t.contains(why)),
                    "{site}: {record}"
                );
                noted += 1;
            }
            None => assert!(record.get("govsnap-tls-invalid").is_none(), "{record}"),
        }
    }
    assert_eq!(noted, 6, "the two notices of each lenient site");

    // and the service's rows of the sites
    let service = common::service::Service::start(
        Path::new(&config),
        &dir.path().join("store"),
        "127.0.0.1:0",
    );
    let rows = service.api("/api/v1/sites");
    for row in rows.as_array().unwrap() {
        let site = row["name"].as_str().unwrap();
        match expected(site) {
            Some(why) => {
                assert_eq!(row["tls"], "lenient");
                assert!(
                    row["tls_invalid"].as_str().is_some_and(|t| t.contains(why)),
                    "{row}"
                );
            }
            None => {
                assert_eq!(row["tls"], "verify");
                assert_eq!(row["tls_invalid"], Value::Null);
            }
        }
    }
    service.stop();
}
