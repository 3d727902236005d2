//! Facet counts (SPEC §13): how many matches each site and year holds,
//! counted in the same pass that ranks them, from the index's columns
//! (tantivy fast fields), without reading a stored document.

use super::answer::Facets;
use std::collections::{BTreeMap, HashMap};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The facets of every match.
pub(super) struct FacetCounts;

pub(super) struct SegmentCounts {
    site: Option<StrColumn>,
    year: Option<Column<u64>>,
    sites: HashMap<u64, u64>,
    years: BTreeMap<u64, u64>,
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
            sites: HashMap::new(),
            years: BTreeMap::new(),
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
        if let Some(ord) = self.site.as_ref().and_then(|c| c.ords().first(doc)) {
            *self.sites.entry(ord).or_default() += 1;
        }
        if let Some(year) = self.year.as_ref().and_then(|c| c.first(doc)) {
            *self.years.entry(year).or_default() += 1;
        }
    }

    fn harvest(self) -> Facets {
        let mut facets = Facets::default();
        if let Some(column) = &self.site {
            let mut name = String::new();
            for (ord, n) in self.sites {
                name.clear();
                if column.ord_to_str(ord, &mut name).unwrap_or(false) {
                    *facets.site.entry(name.clone()).or_default() += n;
                }
            }
        }
        for (year, n) in self.years {
            facets.year.insert(year.to_string(), n);
        }
        facets
    }
}
