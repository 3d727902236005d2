//! Tests of the crawl frontier: its order, rounds and plans, the slots
//! of visits, and the upgrades of older frontiers.
use super::frontier::*;
use super::schedule::{Revisit, Visit};
use super::{Store, trees};
use std::collections::HashSet;

const SITE: &str = "tjbh-gxq";
const BASE: &str = "https://www.tjbh.gov.cn/gxq/";

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    (dir, store)
}

fn pending(store: &Store) -> Vec<String> {
    let (urls, _) = store
        .frontier_pending(SITE, &HashSet::new(), usize::MAX)
        .unwrap();
    urls.into_iter().map(|(url, _, _)| url).collect()
}

#[test]
fn pending_urls_come_shallowest_first_and_at_most_n() {
    let (_dir, store) = open();
    for (path, depth) in [("c.html", 2), ("a.html", 0), ("d.html", 3), ("b.html", 1)] {
        assert!(
            store
                .frontier_add(&format!("{BASE}{path}"), SITE, depth)
                .unwrap()
        );
    }
    assert!(
        !store
            .frontier_add(&format!("{BASE}b.html"), SITE, 0)
            .unwrap()
    );
    store
        .frontier_add("https://www.gov.cn/zhengce/a.html", "gov-cn", 0)
        .unwrap();
    store
        .frontier_done(
            SITE,
            &format!("{BASE}a.html"),
            Visit::Listing,
            0,
            Revisit::default(),
            None,
        )
        .unwrap();
    let skip = HashSet::from([crate::store::url_hash(&format!("{BASE}b.html"))]);

    let (urls, waiting) = store.frontier_pending(SITE, &skip, 1).unwrap();
    let urls: Vec<(String, u32)> = urls.into_iter().map(|(u, d, _)| (u, d)).collect();
    assert_eq!(urls, [(format!("{BASE}c.html"), 2)]);
    assert_eq!(waiting, 2, "c and d: a is done, b is handed out");
    let (urls, _) = store.frontier_pending(SITE, &skip, 5).unwrap();
    let urls: Vec<(String, u32)> = urls.into_iter().map(|(u, d, _)| (u, d)).collect();
    assert_eq!(
        urls,
        [(format!("{BASE}c.html"), 2), (format!("{BASE}d.html"), 3)]
    );
}

#[test]
fn a_crawl_after_an_unfinished_one_takes_every_list_page_and_what_was_left() {
    let (_dir, store) = open();
    let bounds = Revisit::default();
    let day = bounds.min.as_secs();
    let seed = format!("{BASE}index.html");
    let (t1, t2) = (format!("{BASE}t1.html"), format!("{BASE}t2.html"));
    store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
    assert_eq!(pending(&store), std::slice::from_ref(&seed));
    store.frontier_add(&t1, SITE, 1).unwrap();
    store.frontier_add(&t2, SITE, 1).unwrap();
    store
        .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
        .unwrap();
    store
        .frontier_done(SITE, &t2, Visit::Changed, 0, bounds, None)
        .unwrap();

    // unfinished: the list page again (news appears there), then what
    // was left; the document fetched is not due again
    let plan = store.frontier_begin(SITE, &[&seed], 10, false).unwrap();
    assert_eq!((plan.due, plan.deferred, plan.continues), (0, 1, true));
    assert_eq!(pending(&store), [seed.clone(), t1.clone()]);

    // finished: a new crawl a day later visits everything again
    for url in [&seed, &t1] {
        let visit = if *url == seed {
            Visit::Listing
        } else {
            Visit::Unchanged
        };
        store
            .frontier_done(SITE, url, visit, 10, bounds, None)
            .unwrap();
    }
    let plan = store
        .frontier_begin(SITE, &[&seed], day + 10, false)
        .unwrap();
    assert_eq!((plan.due, plan.deferred, plan.continues), (2, 0, false));
    assert_eq!(pending(&store).len(), 3);
}

#[test]
fn an_unfinished_full_plan_is_carried_on_and_a_full_after_a_plain_one_owes_all() {
    let (_dir, store) = open();
    let bounds = Revisit::default();
    let seed = format!("{BASE}index.html");
    let docs: Vec<String> = (0..4).map(|n| format!("{BASE}t{n}.html")).collect();
    store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
    for url in &docs {
        store.frontier_add(url, SITE, 1).unwrap();
        store
            .frontier_done(SITE, url, Visit::Changed, 0, bounds, None)
            .unwrap();
    }
    store
        .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
        .unwrap();
    let done = |url: &String, now| {
        store
            .frontier_done(SITE, url, Visit::Unchanged, now, bounds, None)
            .unwrap();
    };

    // a --full crawl fetches t0 and t1, and is killed
    let plan = store.frontier_begin(SITE, &[&seed], 10, true).unwrap();
    assert_eq!((plan.due, plan.credited), (4, None));
    done(&docs[0], 10);
    done(&docs[1], 10);
    // the next crawl, plain or not, carries the plan on: the list page
    // and t2, t3; t0 and t1 count as revisited
    let plan = store.frontier_begin(SITE, &[&seed], 20, false).unwrap();
    assert_eq!(
        (plan.due, plan.credited, plan.continues),
        (4, Some(2), true)
    );
    assert_eq!(
        pending(&store),
        [seed.clone(), docs[2].clone(), docs[3].clone()]
    );
    // killed again after t2: only what that crawl fetched is carried on
    done(&docs[2], 20);
    let plan = store.frontier_begin(SITE, &[&seed], 30, true).unwrap();
    assert_eq!(plan.credited, Some(1));
    // most overdue first: t3's fetch is the oldest
    assert_eq!(
        pending(&store),
        [
            seed.clone(),
            docs[3].clone(),
            docs[0].clone(),
            docs[1].clone()
        ]
    );

    // a plain crawl killed, then --full: a new plan, every document
    for url in [&docs[0], &docs[1], &docs[3]] {
        done(url, 30);
    }
    store
        .frontier_done(SITE, &seed, Visit::Listing, 30, bounds, None)
        .unwrap();
    store.frontier_begin(SITE, &[&seed], 40, false).unwrap();
    let plan = store.frontier_begin(SITE, &[&seed], 50, true).unwrap();
    assert_eq!((plan.due, plan.credited), (4, None));
    assert_eq!(pending(&store).len(), 5);
}

#[test]
fn documents_not_due_are_left_out_unless_full() {
    let (_dir, store) = open();
    let bounds = Revisit::default();
    let seed = format!("{BASE}index.html");
    let (t1, t2) = (format!("{BASE}t1.html"), format!("{BASE}t2.html"));
    store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
    store.frontier_add(&t1, SITE, 1).unwrap();
    store.frontier_add(&t2, SITE, 1).unwrap();
    store
        .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
        .unwrap();
    // t1 changed long ago, t2 was just fetched
    store
        .frontier_done(SITE, &t1, Visit::Changed, 0, bounds, None)
        .unwrap();
    let now = bounds.min.as_secs() + 5;
    store
        .frontier_done(SITE, &t2, Visit::Changed, now, bounds, None)
        .unwrap();

    let plan = store.frontier_begin(SITE, &[&seed], now, false).unwrap();
    assert_eq!((plan.due, plan.deferred), (1, 1));
    assert_eq!(pending(&store), [seed.clone(), t1.clone()]);
    for (url, visit) in [(&seed, Visit::Listing), (&t1, Visit::Unchanged)] {
        store
            .frontier_done(SITE, url, visit, now, bounds, None)
            .unwrap();
    }
    let plan = store.frontier_begin(SITE, &[&seed], now, true).unwrap();
    assert_eq!((plan.due, plan.deferred), (2, 0));
    assert_eq!(pending(&store).len(), 3);
}

#[test]
fn marks_written_before_rounds_keep_the_crawl_where_it_was() {
    let (_dir, store) = open();
    let url = |path: &str| format!("{BASE}{path}");
    // schema 8: an unfinished crawl of SITE (index done, t1 not), and
    // "tjbh" killed while marking its URLs (its `recrawl:` mark)
    let old = |site: &str, done: bool| {
        format!(r#"{{"site":"{site}","depth":0,"done":{done},"kind":"listing"}}"#)
    };
    for (site, path, done) in [
        (SITE, "index.html", true),
        (SITE, "t1.html", false),
        ("tjbh", "index.html", false),
        ("tjbh", "t1.html", true),
    ] {
        store
            .frontier
            .insert(frontier_key(site, &url(path)), old(site, done).as_bytes())
            .unwrap();
    }
    let restart = [trees::RESTART_KEY_PREFIX, b"tjbh"].concat();
    store.meta.insert(&restart, &[]).unwrap();

    store.upgrade_frontier_rounds().unwrap();
    store.upgrade_frontier_rounds().unwrap(); // a second run changes nothing
    assert_eq!(pending(&store), [url("t1.html")]);
    let plan = store.frontier_begin(SITE, &[], 0, false).unwrap();
    assert!(plan.continues, "unfinished: it continues");
    // the list page again, as every crawl fetches it, and what was left
    assert_eq!(pending(&store), [url("index.html"), url("t1.html")]);
    assert!(!store.meta.contains_key(&restart).unwrap());
    // tjbh's crawl begins anew: both its URLs, not only the one marked
    store.frontier_begin("tjbh", &[], 0, false).unwrap();
    let (urls, waiting) = store.frontier_pending("tjbh", &HashSet::new(), 10).unwrap();
    assert_eq!(waiting, 2, "{urls:?}");
}

#[test]
fn beginning_a_crawl_rewrites_no_entry() {
    let (_dir, store) = open();
    let bounds = Revisit::default();
    let seed = format!("{BASE}index.html");
    store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
    for n in 0..50 {
        let url = format!("{BASE}t{n}.html");
        store.frontier_add(&url, SITE, 1).unwrap();
        store
            .frontier_done(SITE, &url, Visit::Changed, 0, bounds, None)
            .unwrap();
    }
    store
        .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
        .unwrap();
    let before: Vec<_> = store.frontier.iter().collect::<sled::Result<_>>().unwrap();
    let plan = store
        .frontier_begin(SITE, &[&seed], bounds.min.as_secs() + 1, false)
        .unwrap();
    assert_eq!(plan.due, 50);
    assert_eq!(pending(&store).len(), 51);
    let after: Vec<_> = store.frontier.iter().collect::<sled::Result<_>>().unwrap();
    assert_eq!(before, after, "one write to `meta` began the crawl");
}

#[test]
fn two_sites_keep_their_own_entries_and_an_old_frontier_is_rekeyed() {
    let (_dir, store) = open();
    let shared = format!("{BASE}index.html");
    assert!(store.frontier_add(&shared, SITE, 0).unwrap());
    assert!(store.frontier_add(&shared, "tjbh", 2).unwrap());
    store
        .frontier_done(SITE, &shared, Visit::Listing, 0, Revisit::default(), None)
        .unwrap();
    assert!(store.frontier_entry(SITE, &shared).unwrap().unwrap().done);
    assert!(!store.frontier_entry("tjbh", &shared).unwrap().unwrap().done);

    // a frontier entry as schema 4 wrote it: keyed by the URL alone
    let old = FrontierEntry {
        site: "gov-cn".to_owned(),
        depth: 1,
        done: false,
        round: 0,
        kind: None,
        interval_s: None,
        due: None,
        slot: None,
    };
    let url = "https://www.gov.cn/zhengce/content/202401/content_6924911.htm";
    store
        .frontier
        .insert(url.as_bytes(), old.to_json())
        .unwrap();
    store.upgrade_frontier_keys().unwrap();
    assert_eq!(
        store.frontier_entry("gov-cn", url).unwrap(),
        Some(old.clone())
    );
    assert!(store.frontier.get(url.as_bytes()).unwrap().is_none());
    let (urls, _) = store
        .frontier_pending("gov-cn", &HashSet::new(), 10)
        .unwrap();
    assert_eq!(urls, [(url.to_owned(), 1, old.rank())]);
}
