//! Facet counts (SPEC §13): how many matches each site and year holds,
//! counted in the same pass that ranks them, from the index's columns
//! (tantivy fast fields), without reading a stored document.

use super::answer::Facets;
use std::collections::BTreeMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Years counted in a vector (the others, in a map).
const FIRST_YEAR: u64 = 1949;
const YEARS: usize = 200;

/// The facets of every match.
pub(super) struct FacetCounts;

pub(super) struct SegmentCounts {
    site: Option<StrColumn>,
    year: Option<Column<u64>>,
    /// Matches by the site's term ordinal in this segment.
    sites: Vec<u64>,
    /// Matches by year, from [`FIRST_YEAR`]; others in `other_years`.
    years: Vec<u64>,
    other_years: BTreeMap<u64, u64>,
}

impl Collector for FacetCounts {
    type Fruit = Facets;
    type Child = SegmentCounts;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentCounts> {
        let fast = segment.fast_fields();
        Ok(SegmentCounts {
            site: fast.str("site")?,
            year: fast.u64("year").ok(),
            sites: Vec::new(),
            years: vec![0; YEARS],
            other_years: BTreeMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut all = Facets::default();
        for fruit in fruits {
            for (site, n) in fruit.site {
                *all.site.entry(site).or_default() += n;
            }
            for (year, n) in fruit.year {
                *all.year.entry(year).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentCounts {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _: Score) {
        // counted in vectors, not maps: this runs for every match
        if let Some(ord) = self.site.as_ref().and_then(|c| c.ords().first(doc)) {
            let ord = usize::try_from(ord).unwrap_or(usize::MAX);
            if ord >= self.sites.len() {
                self.sites.resize(ord.saturating_add(1).min(1 << 20), 0);
            }
            if let Some(n) = self.sites.get_mut(ord) {
                *n += 1;
            }
        }
        if let Some(year) = self.year.as_ref().and_then(|c| c.first(doc)) {
            match year
                .checked_sub(FIRST_YEAR)
                .and_then(|i| self.years.get_mut(usize::try_from(i).ok()?))
            {
                Some(n) => *n += 1,
                None => *self.other_years.entry(year).or_default() += 1,
            }
        }
    }

    fn harvest(self) -> Facets {
        let mut facets = Facets::default();
        if let Some(column) = &self.site {
            let mut name = String::new();
            for (ord, n) in self.sites.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                name.clear();
                if column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    *facets.site.entry(name.clone()).or_default() += n;
                }
            }
        }
        let counted = (FIRST_YEAR..).zip(self.years).filter(|(_, n)| *n > 0);
        for (year, n) in counted.chain(self.other_years) {
            facets.year.insert(year.to_string(), n);
        }
        facets
    }
}
