//! One node of a record's section tree.

use serde::{Deserialize, Serialize};

/// A numbered part of the document body, or the level-0 preamble before the
/// first numbered heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// The marker without its delimiter (`一`, `（一）`, `1`, `第三条`); null for the preamble.
    pub number: Option<String>,
    /// The heading text; null for the preamble and for articles (`第三条`).
    pub heading: Option<String>,
    /// 0 for the preamble, 1 for top-level sections, one more per nesting step.
    pub level: u32,
    /// The section's own paragraphs, before its first child.
    pub paragraphs: Vec<String>,
    /// Nested sections.
    pub children: Vec<Section>,
}
