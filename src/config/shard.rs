//! Which sites one process owns when sites are sharded over several
//! (SPEC §14): `govsnap serve --shard K/N` keeps the sites whose name hashes
//! to K of N and drops the rest from its config, so it neither crawls nor
//! lists them.
//!
//! The hash is FNV-1a, 64 bits, of the site name's UTF-8 bytes, taken
//! modulo N: a few lines in any language, so a deployment script or a
//! consumer can tell where a site lives without govsnap, and it depends on
//! nothing but the name. A site moves only when N changes
//! (docs/SCALING.md says how to move its store).

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, from 0.
    pub index: u32,
    /// N, at least 1.
    pub count: u32,
}

impl Shard {
    /// The shard of `count` that owns the site `name`.
    #[must_use]
    pub fn of(name: &str, count: u32) -> u32 {
        let hash = name.bytes().fold(FNV_OFFSET, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
        });
        u32::try_from(hash % u64::from(count.max(1))).unwrap_or(0)
    }

    /// Whether this shard owns the site `name`.
    #[must_use]
    pub fn owns(&self, name: &str) -> bool {
        Self::of(name, self.count) == self.index
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a shard: write K/N, K from 0 to N-1 (0/3, 1/3, 2/3)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!("1/3".parse(), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "0/0", "1", "a/3", "-1/3", "1/3/4", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_hash_is_fnv1a_64() {
        // FNV-1a's published test vectors: "" and "a"
        let modulo = |hash: u64| u32::try_from(hash % u64::from(u32::MAX)).unwrap();
        assert_eq!(Shard::of("", u32::MAX), modulo(0xcbf2_9ce4_8422_2325));
        assert_eq!(Shard::of("a", u32::MAX), modulo(0xaf63_dc4c_8601_ec8c));
        // every site has exactly one shard, and one shard of one owns all
        let names: Vec<String> = (0..300).map(|i| format!("县政府-{i}")).collect();
        for name in &names {
            let owners = (0..5)
                .filter(|&k| Shard { index: k, count: 5 }.owns(name))
                .count();
            assert_eq!(owners, 1, "{name}");
            assert!(Shard { index: 0, count: 1 }.owns(name));
        }
        // and the sites spread: no shard of five holds more than 30 %
        for k in 0..5 {
            let held = names.iter().filter(|n| Shard::of(n, 5) == k).count();
            assert!(held < 90, "shard {k} holds {held} of 300");
        }
    }
}
