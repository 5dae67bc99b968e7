"""The web view's one stylesheet, served from ``/ui/static/style.css`` (the CSP allows styles from the
view's own origin only, no inline style)."""

CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans", "Source Han Sans SC", sans-serif; margin: 0; color: #1d1d1f; }
header { background: #243447; color: #fff; padding: .6em 1em; display: flex; gap: 1em; align-items: center; }
header a { color: #fff; margin-right: 1em; }
nav.top { margin-left: auto; display: flex; align-items: center; }
form.logout { display: inline; }
main { padding: 1em 1.5em; }
.zh { color: #555; }
header .zh { color: #cfd8e3; }
.muted { color: #777; }
.error { color: #a40000; font-weight: bold; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #c8c8c8; padding: .25em .5em; vertical-align: top; }
thead th { background: #eef1f5; }
table.report td.value { text-align: right; font-variant-numeric: tabular-nums; min-width: 3em; }
table.report tbody th { text-align: left; font-weight: normal; }
td.fail, span.fail, .swatch.fail { background: #ffd6d6; outline: 2px solid #d40000; color: #7a0000; }
td.none { background: #f6f6f6; }
small.written { display: block; color: #777; font-size: .75em; }
.swatch { padding: 0 .4em; }
.verdict.complete { color: #1a7f37; } .verdict.incomplete, .verdict.blocked { color: #a40000; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.facts dt { font-weight: bold; }
nav.pager { margin: .5em 0 1.5em; } nav.pager a { margin: 0 .5em; }
form.filter label { margin-right: 1em; }
"""
