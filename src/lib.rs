//! govsnap: a document ingestion pipeline for archived government web pages.
//!
//! ```text
//! config ──> crawl ──> decode (bytes → text) ──> clean (remove boilerplate)
//!        ──> structure (metadata + sections) ──> record ──> store
//! ```
//!
//! Around that core: [`attach`] reads the files pages link (SPEC §11);
//! [`warc`] reads WARC, ARC and WACZ and writes WARC and WACZ, and
//! [`wayback`] imports a site's past from a Wayback server (§12); [`search`]
//! finds any document or version by its words (§13); [`serve`] runs
//! scheduled crawls with readers alongside (§9), and [`publish`] hands
//! every change on to NATS JetStream (§14). The extraction core
//! itself: one saved page in, one clean section-structured [`Record`] out
//! (SPEC §2–§4).
//!
//! # Extract one page
//!
//! ```
//! use govsnap::{ExtractOptions, Page, extract};
//!
//! let html = "<html><head><title>关于开展安全检查的通知_通知公告_某某区人民政府</title></head>
//! <body><div class=\"nav\"><a href=\"/\">首页</a> &gt; <a href=\"/gk/\">政务公开</a></div>
//! <div class=\"article\"><h1>关于开展安全检查的通知</h1>
//! <div class=\"info\">发布时间：2021-03-30 10:20　来源：区应急管理局</div>
//! <div class=\"TRS_Editor\"><p>各街道、各部门：</p>
//! <p>一、检查范围</p><p>全区所有生产经营单位，重点是危险化学品和建筑施工企业。</p>
//! <p>二、工作要求</p><p>各单位要高度重视，认真组织开展自查自纠，确保取得实效。</p></div></div>
//! <div class=\"footer\">主办单位：某某区人民政府　京ICP备12345678号</div></body></html>";
//! let record = extract(
//!     &Page { bytes: html.as_bytes(), url: Some("http://www.example.gov.cn/gk/t20210330_1.html"), ..Page::default() },
//!     None,
//!     ExtractOptions::default(),
//! )?;
//! assert_eq!(record.title.as_deref(), Some("关于开展安全检查的通知"));
//! assert_eq!(record.published.as_deref(), Some("2021-03-30"));
//! assert_eq!(record.source.as_deref(), Some("区应急管理局"));
//! assert_eq!(record.sections[1].heading.as_deref(), Some("检查范围"));
//! assert!(!record.text.contains("ICP"));
//! # Ok::<(), govsnap::Error>(())
//! ```

#![deny(missing_docs)]
#![warn(clippy::pedantic, missing_debug_implementations, unreachable_pub)]

pub mod attach;
pub mod canon;
mod clean;
pub mod config;
pub mod crawl;
pub mod decode;
mod error;
mod pipeline;
pub mod publish;
pub mod record;
pub mod search;
pub mod serve;
pub mod store;
mod structure;
pub mod warc;
pub mod wayback;

pub use config::{Config, ExtractOptions, SiteRules};
pub use error::{Error, Result};
pub use pipeline::{Page, SnapshotCounts, Snapshots, extract, extract_with_links, snapshot};
pub use record::{Attachment, Record, RecordDiff, Section};
pub use store::Store;
pub use structure::NO_URL;
