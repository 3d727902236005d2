//! Dates as Chinese government pages print them: `2021-03-30`, `2021年3月30日`,
//! `2021/3/30`, `2021.03.30`, `发布时间：2021-03-30 10:20`, `20210330`.

use regex::Regex;
use std::sync::LazyLock;

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"((?:19|20)[0-9]{2})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})(?:[^0-9]|$)|((?:19|20)[0-9]{2})(0[1-9]|1[0-2])([0-3][0-9])(?:[^0-9]|$)|((?:19|20)[0-9]{2})\s+([0-9]{1,2})/([0-9]{1,2})(?:[^0-9]|$)",
    )
    .expect("static regex")
});

/// The first valid date in `text`, as `YYYY-MM-DD`.
#[must_use]
pub(crate) fn find_date(text: &str) -> Option<String> {
    DATE.captures_iter(text).find_map(|c| {
        // three forms, three groups each: separated, compact, year apart
        let first = [1, 4, 7].into_iter().find(|&g| c.get(g).is_some())?;
        let (y, m, d) = (&c[first], &c[first + 1], &c[first + 2]);
        let (y, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        valid(y, m, d).then(|| format!("{y:04}-{m:02}-{d:02}"))
    })
}

fn valid(y: u32, m: u32, d: u32) -> bool {
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

#[cfg(test)]
mod tests {
    use super::find_date;

    #[test]
    fn common_forms() {
        for (text, want) in [
            ("2021-03-30", "2021-03-30"),
            ("发布时间：2021-03-30 10:20", "2021-03-30"),
            ("2021年3月30日", "2021-03-30"),
            ("2021 年 3 月 30 日", "2021-03-30"),
            ("2021/3/30", "2021-03-30"),
            ("[2021.03.30]", "2021-03-30"),
            ("t20210330_5391243", "2021-03-30"),
            ("2024 04/16 10:12:35", "2024-04-16"),
        ] {
            assert_eq!(find_date(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn impossible_dates_are_not_dates() {
        assert_eq!(find_date("2021-02-30"), None);
        assert_eq!(find_date("2021-13-01"), None);
        assert_eq!(find_date("电话：022-12345678"), None);
        assert_eq!(find_date("2020-02-29").as_deref(), Some("2020-02-29"));
    }
}
