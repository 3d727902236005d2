//! What the shard tests share: twelve provinces' disclosure sites, and the
//! shard a name hashes to as docs/SCALING.md gives it to deployment scripts.

/// Twelve sites' names, spread over three shards by [`shard_of`].
pub const SITES: [&str; 12] = [
    "beijing-xxgk",
    "tianjin-hexi",
    "hebei-shijiazhuang",
    "shanxi-taiyuan",
    "neimenggu-baotou",
    "liaoning-dalian",
    "jilin-changchun",
    "shanghai-pudong",
    "jiangsu-suzhou",
    "zhejiang-hangzhou",
    "anhui-hefei",
    "fujian-xiamen",
];

/// FNV-1a, 64 bits, of the name, modulo `n`.
pub fn shard_of(name: &str, n: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash % n
}
