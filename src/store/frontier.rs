//! The crawl frontier, kept in the store (tree `frontier`) so that a crawl
//! killed at any moment continues where it stopped: every URL a crawl has
//! discovered, with its site, its link depth and whether this crawl has
//! visited it yet.

use super::{Store, store_error, trees};
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// One URL of the frontier (tree `frontier`, key: the URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontierEntry {
    /// The config site that found it.
    pub site: String,
    /// Links from a seed (0 for seeds).
    pub depth: u32,
    /// Whether the current crawl has fetched it.
    pub done: bool,
}

impl FrontierEntry {
    fn to_json(&self) -> Vec<u8> {
        // three plain fields: serializing cannot fail
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl Store {
    /// Add a URL the crawl found; `false` when the frontier already has it.
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the write fails.
    pub fn frontier_add(&self, url: &str, site: &str, depth: u32) -> Result<bool> {
        let entry = FrontierEntry {
            site: site.to_owned(),
            depth,
            done: false,
        };
        let json = entry.to_json();
        let swapped = self
            .frontier
            .compare_and_swap(url.as_bytes(), None as Option<&[u8]>, Some(json))
            .map_err(|e| store_error(&self.path, e))?;
        Ok(swapped.is_ok())
    }

    /// Mark a URL visited by the current crawl.
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the write fails.
    pub fn frontier_done(&self, url: &str) -> Result<()> {
        if let Some(mut entry) = self.read::<FrontierEntry>(&self.frontier, url.as_bytes())? {
            entry.done = true;
            let json = entry.to_json();
            self.frontier
                .insert(url.as_bytes(), json)
                .map_err(|e| store_error(&self.path, e))?;
        }
        Ok(())
    }

    /// The URLs of a site the current crawl has not visited yet.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn frontier_pending(&self, site: &str) -> Result<Vec<(String, u32)>> {
        let mut out = Vec::new();
        for kv in &self.frontier {
            let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
            let entry: FrontierEntry = serde_json::from_slice(&v)
                .map_err(|e| self.bad_value(trees::FRONTIER, &e.to_string()))?;
            if entry.site == site && !entry.done {
                out.push((String::from_utf8_lossy(&k).into_owned(), entry.depth));
            }
        }
        Ok(out)
    }

    /// Start a new crawl of a site: every URL it ever found is to be visited
    /// again (known pages get conditional requests). Returns how many.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn frontier_restart(&self, site: &str) -> Result<usize> {
        let mut n = 0;
        for kv in &self.frontier {
            let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
            let mut entry: FrontierEntry = serde_json::from_slice(&v)
                .map_err(|e| self.bad_value(trees::FRONTIER, &e.to_string()))?;
            if entry.site == site {
                entry.done = false;
                let json = entry.to_json();
                self.frontier
                    .insert(k, json)
                    .map_err(|e| store_error(&self.path, e))?;
                n += 1;
            }
        }
        Ok(n)
    }
}
