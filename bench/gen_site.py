#!/usr/bin/env python3
"""Generate a realistic government disclosure site for the crawl benchmark.

  python3 bench/gen_site.py N DIR [--newest-first] [--heavy] [--varied]

DIR/gk/index.html, index_1.html … list 20 articles each (TRS pagination: the
createPageHTML script call plus ordinary 上一页/下一页 links, so that wget can
follow them too); DIR/gk/YYYYMM/tYYYYMMDD_ID.html are the articles, built like
the fixtures: header, breadcrumb, title, info line, numbered sections, share
bar, footer with filing numbers. Deterministic for a given N, and article i
is the same whatever N. With --newest-first the lists show the highest
numbers first, as a real list does: N+20 then puts the 20 new articles on
index.html and shifts the others down the pages. With --heavy the articles
carry a template the size real government sites serve (about 28 KB a page:
inline styles and scripts, a mega-menu, a sidebar of hot items, a footer of
friendly links), for measuring what a store costs against its HTML. With
--varied each article's body is about 2,000 characters of text that does
not repeat from page to page (the phrases mixed with characters drawn by a
Zipf law over 3,000 CJK characters, which zstd shrinks about as much as real
Chinese text): what a record costs, where the default bodies, ten phrases
over and over, cost next to nothing.
"""
import os
import random
import sys

PER_PAGE = 20
PHRASES = [
    "深入贯彻落实党中央、国务院决策部署", "进一步优化营商环境", "持续推进政务公开标准化规范化",
    "切实加强安全生产监督管理", "全面提升公共服务水平", "扎实做好民生保障工作",
    "加快推进数字政府建设", "依法规范行政执法行为", "强化财政资金绩效管理", "稳步推进城市更新",
]
HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_政务公开_某某市人民政府</title>
<meta name="SiteName" content="某某市人民政府"><meta name="ColumnName" content="通知公告"></head><body>
<div class="top">网站支持IPv6 | <a href="/">首页</a> | <a href="/wza/">无障碍</a></div>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/gk/index.html">政务公开</a></li><li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/gk/index.html">政务公开</a></div>"""
FOOT = """<div class="footer"><p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a></p>
<p>主办单位：某某市人民政府办公室　网站标识码：1100000001　京ICP备00000000号　京公网安备 11000002000001号</p></div></body></html>"""


def heavy_template():
    """The parts of a large CMS template, the same on every page."""
    style = "<style>" + "".join(
        f".col{k}{{float:left;width:{k % 12 + 1}0px;margin:0 {k % 7}px;font-size:{12 + k % 5}px;color:#{k * 12345 % 0xFFFFFF:06x}}}"
        for k in range(90)) + "</style>"
    script = "<script>var _hmt=_hmt||[];(function(){var hm=document.createElement('script');" + "".join(
        f"window.cfg{k}={{id:{k},path:'/col/col{k}/index.html',title:'栏目{k}'}};" for k in range(60)) + "})();</script>"
    menu = '<div class="megamenu"><ul>' + "".join(
        f'<li><a href="/col/col{k}/index.html">{PHRASES[k % len(PHRASES)][:6]}专栏{k}</a>'
        + "".join(f'<a href="/col/col{k}_{j}/index.html">子栏目{j}</a>' for j in range(4)) + "</li>"
        for k in range(40)) + "</ul></div>"
    side = '<div class="sidebar"><h3>热点信息</h3><ul>' + "".join(
        f'<li><a href="/gk/hot/t{k}.html">{PHRASES[k % len(PHRASES)]}相关工作情况通报（第{k}期）</a></li>'
        for k in range(25)) + "</ul></div>"
    links = '<div class="friendlinks">' + "".join(
        f'<a href="http://www.site{k}.gov.cn/">某某{k}区人民政府网站</a>' for k in range(40)) + "</div>"
    return style + script + menu, side + links


CHARS = [chr(0x4E00 + (k * 7919) % 20902) for k in range(3000)]
ZIPF = [1 / (k + 1) for k in range(3000)]


def varied_sentence(rng):
    """A sentence of phrases and Zipf-drawn characters, about 80 long."""
    parts = []
    while sum(map(len, parts)) < 70:
        if rng.random() < 0.3:
            parts.append(rng.choice(PHRASES))
        else:
            parts.append("".join(rng.choices(CHARS, ZIPF, k=rng.randint(4, 12))))
    return "，".join(parts) + "。"


def article(i, rng, heavy=None, varied=False):
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    title = f"关于做好第{i}批{rng.choice(PHRASES)}工作的通知"
    sections = []
    for s, num in enumerate("一二三四"):
        if varied:
            paras = "".join(f"<p>　　{''.join(varied_sentence(rng) for _ in range(2))}</p>" for _ in range(3))
        else:
            paras = "".join(f"<p>　　{rng.choice(PHRASES)}，{rng.choice(PHRASES)}，{rng.choice(PHRASES)}。各单位要高度重视，明确责任分工，确保第{i}项任务按时完成。</p>" for _ in range(3))
        sections.append(f"<p>　　{num}、{rng.choice(PHRASES)}</p>{paras}")
    body = "".join(sections)
    top, bottom = heavy or ("", "")
    page = (HEAD.format(title=title) + top
            + f'<div class="article"><h1>{title}</h1><div class="info">发布时间：2024-{month:02d}-{day:02d}　来源：市政府办公室　浏览次数：{rng.randint(1, 9999)}</div>'
            + f'<div class="TRS_Editor"><p>各区人民政府，市政府各委、办、局：</p>{body}<p style="text-align:right">某某市人民政府办公室</p><p style="text-align:right">2024年{month}月{day}日</p></div>'
            + '<div class="share">分享到：<a>微信</a> <a>微博</a></div><div class="tools">【打印本页】【关闭窗口】</div></div>'
            + bottom + FOOT)
    path = f"gk/2024{month:02d}/t2024{month:02d}{day:02d}_{100000 + i}.html"
    return path, title, page


def main():
    n, root = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(20241126)
    heavy = heavy_template() if "--heavy" in sys.argv[3:] else None
    varied = "--varied" in sys.argv[3:]
    articles = [article(i, rng, heavy, varied) for i in range(n)]
    listed = articles[::-1] if "--newest-first" in sys.argv[3:] else articles
    for path, _, page in articles:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(page)
    pages = (n + PER_PAGE - 1) // PER_PAGE
    for p in range(pages):
        items = "".join(f'<li><a href="/{path}">{title}</a><span>2024-01-01</span></li>' for path, title, _ in listed[p * PER_PAGE:(p + 1) * PER_PAGE])
        name = "index.html" if p == 0 else f"index_{p}.html"
        prev_link = "" if p == 0 else f'<a href="{"index.html" if p == 1 else f"index_{p - 1}.html"}">上一页</a>'
        next_link = "" if p == pages - 1 else f'<a href="index_{p + 1}.html">下一页</a>'
        listing = (HEAD.format(title="通知公告") + f'<div class="list"><ul>{items}</ul></div>'
                   + f'<div class="page">{prev_link} {next_link}<script>createPageHTML({pages}, {p}, "index", "html");</script></div>' + FOOT)
        with open(os.path.join(root, "gk", name), "w", encoding="utf-8") as f:
            f.write(listing)
    print(f"{n} articles, {pages} list pages")


if __name__ == "__main__":
    main()
