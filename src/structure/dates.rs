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
        ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    })
}

/// `YYYY-MM-DD`, when the day exists.
fn ymd(y: u32, m: u32, d: u32) -> Option<String> {
    valid(y, m, d).then(|| format!("{y:04}-{m:02}-{d:02}"))
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

/// A post's date as blogs and forums print it beside the author, with no
/// label of a document's: `posted @ 2005-07-31 10:00`, `发表于 2005-7-31`,
/// `发表时间：2005-07-31`, `Posted on 2005-07-31`.
pub(crate) fn post_date(text: &str) -> Option<String> {
    static POSTED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(?:posted\s*(?:@|on|at)|发表于|发布于|发表时间\s*[:：]?)\s*(.{6,24})")
            .expect("static regex")
    });
    POSTED
        .captures_iter(text)
        .find_map(|c| find_date(c.get(1)?.as_str()))
}

/// A date in a URL's path, for a page that prints none: `/archive/2005/07/31/…`,
/// `/2005-07-31/`, `/20050731/`, a blog's `/050404/` (the year's last two
/// digits; a six-digit `/201206/` is a month's folder, not a day). Never
/// later than `today`: a path of numbers is not always a date.
pub(crate) fn url_path_date(url: &str, today: &str) -> Option<String> {
    static SPLIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"/((?:19|20)[0-9]{2})/([0-9]{1,2})/([0-9]{1,2})(?:/|$)").expect("static regex")
    });
    let path = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
    let path = path.split(['?', '#']).next().unwrap_or("");
    let split = SPLIT
        .captures(path)
        .and_then(|c| ymd(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?));
    let segment = || {
        path.split('/').find_map(|seg| match seg.len() {
            8 | 10 if seg.bytes().all(|b| b.is_ascii_digit() || b == b'-') => find_date(seg),
            6 if seg.bytes().all(|b| b.is_ascii_digit()) && !is_month_folder(seg) => {
                let yy: u32 = seg[..2].parse().ok()?;
                let century = if yy <= 69 { 2000 } else { 1900 };
                ymd(
                    century + yy,
                    seg[2..4].parse().ok()?,
                    seg[4..].parse().ok()?,
                )
            }
            _ => None,
        })
    };
    split.or_else(segment).filter(|date| date.as_str() <= today)
}

/// `201206`: June 2012, as TRS names its month folders.
fn is_month_folder(seg: &str) -> bool {
    (seg.starts_with("19") || seg.starts_with("20"))
        && seg[4..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
}

#[cfg(test)]
mod tests {
    use super::{find_date, post_date, url_path_date};

    #[test]
    fn posts_are_dated_where_their_author_is_named() {
        for (text, want) in [
            (
                "posted @ 2005-07-31 10:00 某某 阅读(1532) 评论(4)",
                Some("2005-07-31"),
            ),
            ("发表于 2005-7-31 10:22 | 只看该作者", Some("2005-07-31")),
            ("发表时间：2005-08-01", Some("2005-08-01")),
            ("Posted on 2011/3/5 by admin", Some("2011-03-05")),
            ("2005-07-31 某某", None),
        ] {
            assert_eq!(post_date(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn dates_in_a_url_path() {
        let today = "2026-12-07";
        for (url, want) in [
            (
                "https://www.cnblogs.com/someone/archive/2005/07/31/204050.html",
                Some("2005-07-31"),
            ),
            (
                "http://blog.example.com.cn/u/050404/88.html",
                Some("2005-04-04"),
            ),
            (
                "http://example.com/2019-03-08/notice.html",
                Some("2019-03-08"),
            ),
            (
                "http://example.com/news/20190308/1.html",
                Some("2019-03-08"),
            ),
            // a month's folder, an id, a date to come
            ("http://www.example.gov.cn/gk/201206/t_1.html", None),
            ("http://example.com/thread/123456.html", None),
            ("http://example.com/archive/2031/01/01/x.html", None),
            ("http://example.com/p?d=2005/07/31", None),
        ] {
            assert_eq!(url_path_date(url, today).as_deref(), want, "{url}");
        }
    }

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
