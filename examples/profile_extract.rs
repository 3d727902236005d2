fn main() {
    let dir = std::path::Path::new("tests/fixtures");
    let cases: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let pages: Vec<(Vec<u8>, String, String)> = cases.iter().map(|c| {
        let b = std::fs::read(dir.join(c["path"].as_str().unwrap())).unwrap();
        let t = govsnap::decode::decode(&b, c["content_type"].as_str()).text;
        (b, t, c["url"].as_str().unwrap().to_owned())
    }).collect();
    let mode = std::env::args().nth(1).unwrap();
    let n: usize = std::env::args().nth(2).map_or(200, |a| a.parse().unwrap());
    for _ in 0..n {
        for (b, t, u) in &pages {
            if mode == "parse" {
                std::hint::black_box(scraper::Html::parse_document(t));
            } else if mode == "decode-parse" {
                let d = govsnap::decode::decode(b, None);
                std::hint::black_box(scraper::Html::parse_document(&d.text));
            } else {
                let page = govsnap::Page { bytes: b, url: Some(u), ..Default::default() };
                std::hint::black_box(govsnap::extract(&page, None, Default::default()).unwrap());
            }
        }
    }
}
