//! Key encoding. Integers are big-endian so that sled's byte order is their
//! numeric order: a prefix scan over a page's hash returns its versions and
//! events oldest first (sled README, "a note on lexicographic ordering and
//! endianness").

/// Length of the URL hash that prefixes a page's keys.
pub(crate) const URL_HASH_LEN: usize = 16;

/// The first 16 bytes of the URL's blake3 hash: fixed-length keys whatever
/// the URL's length, and 2^-64 collision odds at a billion pages.
pub(crate) fn url_hash(url: &str) -> [u8; URL_HASH_LEN] {
    let hash = blake3::hash(url.as_bytes());
    let mut out = [0; URL_HASH_LEN];
    out.copy_from_slice(&hash.as_bytes()[..URL_HASH_LEN]);
    out
}

/// `url hash ‖ n (u32, big-endian)`: a version or an event of a page.
pub(crate) fn page_key(url: &str, n: u32) -> [u8; URL_HASH_LEN + 4] {
    let mut key = [0; URL_HASH_LEN + 4];
    key[..URL_HASH_LEN].copy_from_slice(&url_hash(url));
    key[URL_HASH_LEN..].copy_from_slice(&n.to_be_bytes());
    key
}

/// A page's history events are keyed `prefix ‖ n (u32, big-endian)`. The
/// prefix is the page's id (8 bytes): a crawl stores new pages in id order,
/// so their keys land in the cached end of the tree. Pages stored before
/// schema 3 had the URL hash (16 bytes) and no id; only the schema-7
/// upgrade (`upgrade`) still meets them, and moves them.
pub(crate) fn page_prefix(url: &str, id: Option<u64>) -> Vec<u8> {
    id.map_or_else(|| url_hash(url).to_vec(), |id| id.to_be_bytes().to_vec())
}

/// `prefix ‖ n`: event or version `n` of a page (see [`page_prefix`]).
pub(crate) fn event_key(prefix: &[u8], n: u32) -> Vec<u8> {
    [prefix, &n.to_be_bytes()].concat()
}

/// A key that is a monotonic id (u64, big-endian): fetch-log entries,
/// versions and raw bytes. Written in id order, such keys always land in a
/// tree's last leaf, which stays in sled's cache however large the tree
/// grows; keys by URL or content hash land anywhere and make every write
/// read a leaf from disk once the tree outgrows the cache.
pub(crate) fn id_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically_under_their_page() {
        let a = page_key("http://www.example.gov.cn/a.html", 2);
        let b = page_key("http://www.example.gov.cn/a.html", 10);
        assert!(a < b);
        assert_eq!(a[..URL_HASH_LEN], b[..URL_HASH_LEN]);
        assert!(id_key(255) < id_key(256));
    }
}
