//! `deploy/govsnap.yaml`, the Kubernetes StatefulSet of shards: the YAML
//! parses (PyYAML, as kubectl's own parser reads the same YAML 1.1), the
//! fields a StatefulSet of shards needs are there and agree with each
//! other, the ConfigMap's config is one govsnap accepts, and the shell line
//! gives each pod the `--shard K/N` its ordinal names. `deploy/nats.yaml`,
//! the NATS cluster the shards publish to: its config is one the real
//! `nats-server` takes, its routes name its own pods, and govsnap's
//! `[publish]` reaches them with the token their Secret holds.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The manifests of `deploy/NAME` as JSON.
fn manifests(name: &str) -> Vec<Value> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    let out = Command::new(common::tool("python3"))
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')))))",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "deploy/{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn of_kind<'a>(all: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<_> = all.iter().filter(|m| m["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

#[test]
fn the_statefulset_of_shards_holds_together() {
    let all = manifests("govsnap.yaml");
    for m in &all {
        for field in ["apiVersion", "kind"] {
            assert!(m[field].is_string(), "{field} of {m}");
        }
        assert!(
            m["metadata"]["name"].is_string(),
            "a name for {}",
            m["kind"]
        );
    }
    let config_map = of_kind(&all, "ConfigMap");
    let service = of_kind(&all, "Service");
    let set = of_kind(&all, "StatefulSet");
    assert_eq!(set["apiVersion"], "apps/v1");
    let spec = &set["spec"];
    assert_eq!(spec["serviceName"], service["metadata"]["name"]);
    assert_eq!(service["spec"]["clusterIP"], "None", "a headless service");
    let labels = &spec["template"]["metadata"]["labels"];
    for (key, value) in spec["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&labels[key], value, "the selector matches the pods");
        assert_eq!(&service["spec"]["selector"][key], value);
    }
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    let env = |name: &str| {
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("env {name}"))
            .to_owned()
    };
    let shards = env("SHARDS");
    assert_eq!(
        spec["replicas"].as_u64().unwrap().to_string(),
        shards,
        "one pod per shard"
    );
    // each mount names a volume of the pod or a claim template
    let claims: Vec<&str> = spec["volumeClaimTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap())
        .collect();
    let volumes = pod["volumes"].as_array().unwrap();
    let mount = |name: &str| mount_path(container, name);
    for m in container["volumeMounts"].as_array().unwrap() {
        let name = m["name"].as_str().unwrap();
        assert!(
            claims.contains(&name) || volumes.iter().any(|v| v["name"] == name),
            "mount {name} has a volume"
        );
    }
    let volume = |name: &str| volumes.iter().find(|v| v["name"] == name).unwrap();
    assert_eq!(
        volume("config")["configMap"]["name"],
        config_map["metadata"]["name"]
    );
    assert!(volume("token")["secret"]["secretName"].is_string());

    // the command, as the pod's shell runs it, for pod 2 of 3
    let line = container["args"][0].as_str().unwrap();
    assert!(line.starts_with("exec govsnap serve "), "{line}");
    let echoed = Command::new("sh")
        .args(["-c", &line.replacen("exec govsnap serve", "echo", 1)])
        .env("HOSTNAME", "govsnap-2")
        .env("SHARDS", &shards)
        .output()
        .unwrap();
    let argv: Vec<String> = String::from_utf8(echoed.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let arg = |flag: &str| {
        let at = argv
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("{flag} in {argv:?}"));
        argv[at + 1].clone()
    };
    assert_eq!(arg("--shard"), format!("2/{shards}"));
    assert!(arg("--shard").parse::<govsnap::config::Shard>().is_ok());
    assert!(
        arg("--store").starts_with(&mount("store")),
        "the store on its volume"
    );
    assert!(arg("--config").starts_with(&mount("config")));
    assert!(arg("--token-file").starts_with(&mount("token")));
    let key = Path::new(&arg("--config"))
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();

    // the ConfigMap's config is one govsnap takes
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join(&key);
    std::fs::write(&toml, config_map["data"][&key].as_str().unwrap()).unwrap();
    let config = govsnap::Config::load(&toml).unwrap();
    assert!(!config.sites.is_empty());
    assert!(
        config.sites.iter().all(|s| s.schedule.is_some()),
        "a service's sites are scheduled"
    );
}

/// A container's mount of volume `name`: its path.
fn mount_path(container: &Value, name: &str) -> String {
    container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("a mount of {name}"))["mountPath"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_nats_cluster_takes_its_config_and_govsnap_reaches_it() {
    let nats = manifests("nats.yaml");
    let config_map = of_kind(&nats, "ConfigMap");
    let service = of_kind(&nats, "Service");
    let set = of_kind(&nats, "StatefulSet");
    let spec = &set["spec"];
    let replicas = spec["replicas"].as_u64().unwrap();
    assert_eq!(replicas, 3, "a JetStream cluster of three");
    assert_eq!(spec["serviceName"], service["metadata"]["name"]);
    assert_eq!(service["spec"]["clusterIP"], "None", "a headless service");
    let container = &spec["template"]["spec"]["containers"][0];
    let volumes = spec["template"]["spec"]["volumes"].as_array().unwrap();
    let config_volume = volumes.iter().find(|v| v["name"] == "config").unwrap();
    assert_eq!(
        config_volume["configMap"]["name"],
        config_map["metadata"]["name"]
    );
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let config_path = args[args.iter().position(|a| *a == "--config").unwrap() + 1];
    let key = Path::new(config_path)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(config_path.starts_with(&mount_path(container, "config")));
    let conf = config_map["data"][key].as_str().unwrap();

    // the real server takes the config, with what the pod's env gives it
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(key);
    std::fs::write(&file, conf).unwrap();
    let env: Vec<&Value> = container["env"].as_array().unwrap().iter().collect();
    let mut check = Command::new(common::tool("nats-server"));
    check.args(["-t", "-c", file.to_str().unwrap()]);
    for var in &env {
        check.env(var["name"].as_str().unwrap(), "nats-0");
    }
    let out = check.output().unwrap();
    assert!(
        out.status.success(),
        "nats-server -t: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(conf.contains("jetstream"), "JetStream is on");
    let service_name = service["metadata"]["name"].as_str().unwrap();
    for k in 0..replicas {
        assert!(
            conf.contains(&format!("nats://nats-{k}.{service_name}:6222")),
            "a route to pod {k}"
        );
    }
    assert!(
        spec["volumeClaimTemplates"][0]["metadata"]["name"].is_string(),
        "a volume per server"
    );
    let token_secret = env
        .iter()
        .find(|v| v["name"] == "NATS_TOKEN")
        .map(|v| v["valueFrom"]["secretKeyRef"]["name"].as_str().unwrap())
        .expect("the token from a Secret");

    // govsnap's [publish] names these servers, their token and replicas
    let govsnap = manifests("govsnap.yaml");
    let map = of_kind(&govsnap, "ConfigMap");
    let toml = dir.path().join("govsnap.toml");
    std::fs::write(&toml, map["data"]["govsnap.toml"].as_str().unwrap()).unwrap();
    let publish = govsnap::Config::load(&toml)
        .unwrap()
        .publish
        .expect("[publish]");
    assert_eq!(
        publish.replicas as u64, replicas,
        "the stream on every server"
    );
    let client_port = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "client")
        .unwrap()["port"]
        .as_u64()
        .unwrap();
    for server in publish.nats.split(',') {
        let host = server.strip_prefix("nats://").unwrap();
        let (host, port) = host.rsplit_once(':').unwrap();
        assert_eq!(port.parse::<u64>().unwrap(), client_port);
        let pod = host
            .strip_suffix(&format!(".{service_name}"))
            .and_then(|p| p.strip_prefix("nats-"))
            .and_then(|k| k.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{server} is not a pod of the NATS set"));
        assert!(pod < replicas);
    }
    let govsnap_pod = &of_kind(&govsnap, "StatefulSet")["spec"]["template"]["spec"];
    let govsnap::config::NatsAuth::Token(token_file) = &publish.auth else {
        panic!("govsnap authenticates with the token");
    };
    let volume = govsnap_pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["secret"]["secretName"] == token_secret)
        .expect("the NATS token's Secret mounted in govsnap's pods");
    let mounted = mount_path(
        &govsnap_pod["containers"][0],
        volume["name"].as_str().unwrap(),
    );
    assert!(token_file.starts_with(&mounted), "{}", token_file.display());
}
