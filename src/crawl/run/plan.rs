//! What a site's crawl keeps in the store as it goes: its beginning (the
//! plan the store's frontier makes, and the counts of an unfinished crawl
//! it carries on), its record with the counts so far, written with every
//! batch so that a kill loses none of them, and the room its disk has left
//! (`[store] min_free`).

use super::SiteCrawl;
use crate::crawl::summary::SiteSummary;
use crate::error::{Error, Result};
use crate::store::schedule::unix_now;
use crate::store::{CrawlRecord, PutOutcome, human_bytes};

impl SiteCrawl<'_> {
    /// Begin the site's crawl in the store (its plan, SPEC §8), taking
    /// over the counts of an unfinished crawl it continues, and record it.
    pub(super) fn begin(&mut self) -> Result<()> {
        self.check_space()?;
        // seeds too take their one URL, as every link does
        let seeds: Vec<String> = self
            .site
            .seeds
            .iter()
            .map(|s| crate::canon::canonical(s.clone(), &self.site.strip_params).to_string())
            .collect();
        let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
        // the last crawl's counts, read before this crawl's record replaces
        // them: an unfinished one's are carried on
        let before = self.store.crawl_record(&self.site.name)?.and_then(|r| {
            r.summary
                .and_then(|s| serde_json::from_value::<SiteSummary>(s).ok())
        });
        let plan =
            self.store
                .frontier_begin(&self.site.name, &seeds, unix_now(), self.shared.full)?;
        (self.summary.due, self.summary.deferred) = (plan.due, plan.deferred);
        if plan.continues
            && let Some(before) = before
        {
            self.summary.carry(&before, plan.credited);
        } else if let Some(credited) = plan.credited {
            self.summary.revisited += credited;
        }
        self.store.put_crawl_record(
            &self.site.name,
            &CrawlRecord {
                started: self.started.clone(),
                finished: None,
                summary: serde_json::to_value(&self.summary).ok(),
            },
        )?;
        Ok(())
    }

    /// Room on the store's disk for another batch: under `[store]
    /// min_free` a warning (once a crawl), under half of it the crawl
    /// pauses, as on a full disk, so that the disk's last bytes are never
    /// the store's; what it stored is kept and the next crawl continues.
    pub(super) fn check_space(&mut self) -> Result<()> {
        let min_free = self.config.min_free;
        let Some(free) = self.store.free_bytes().filter(|_| min_free > 0) else {
            return Ok(());
        };
        if free < min_free / 2 {
            return Err(Error::DiskFull {
                path: self.store.path().to_owned(),
                reason: format!(
                    "{} free, under half of [store] min_free = {}, which crawls leave free",
                    human_bytes(free),
                    human_bytes(min_free)
                ),
                stored: None,
                doing: "",
            });
        }
        if free < min_free && !self.warned_space {
            self.warned_space = true;
            tracing::warn!(
                site = %self.site.name,
                store = %self.store.path().display(),
                free = %human_bytes(free),
                min_free = %human_bytes(min_free),
                "the store's disk is under [store] min_free: crawls pause under half of it"
            );
        }
        Ok(())
    }
}

/// A stored document in the summary's counts.
pub(super) fn count(summary: &mut SiteSummary, outcome: PutOutcome, attachment: bool) {
    if attachment {
        // the same bytes under another URL are the same file
        match outcome {
            PutOutcome::NewVersion(_) => summary.attachments += 1,
            PutOutcome::Unchanged | PutOutcome::Alias => summary.attachments_unchanged += 1,
        }
        return;
    }
    summary.documents += 1;
    match outcome {
        PutOutcome::NewVersion(_) => summary.new_versions += 1,
        PutOutcome::Unchanged => summary.unchanged += 1,
        PutOutcome::Alias => summary.aliases += 1,
    }
}
