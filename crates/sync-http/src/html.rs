//! The diff view as one HTML page: the review page of a held run and `sync-cli diff --format
//! html` render it, from a [`DiffView`] each builds from its own source (a run's stored
//! changes, or `sync-core`'s diff of two files). No rule is here: only presentation.
//!
//! The page is self-contained (styles inline, no asset fetched, no external URL), readable on a
//! laptop and a phone (the tables become stacked cards on narrow screens), keyboard usable
//! (native links, buttons and labelled inputs, a visible focus ring) and of sufficient
//! contrast. Field names are the wire names, values and dates are shown as sent. Every value
//! is escaped by [`Escaped`].
//!
//! Two ways to page and filter, [`Navigation`]: the server pages with links and filters with a
//! form (no script at all), a file holds every change and a small inline script filters and
//! pages it in the browser (without script, every change is shown).

use std::borrow::Cow;
use std::fmt::{self, Display, Write};

/// Changes shown per page by a file ([`Navigation::InPage`]).
pub const IN_PAGE_SIZE: usize = 200;
/// Problems listed at the top at most; the rest are counted.
pub const PROBLEMS_SHOWN: usize = 1000;

/// Text escaped for HTML content and quoted attribute values: `& < > " '`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// What a change does to a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The contract is new.
    Added,
    /// Some fields changed.
    Updated,
    /// The contract is archived.
    Removed,
}

impl ChangeKind {
    /// The wire word: `added`, `updated`, `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Updated => "updated",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One changed field of an updated contract: `None` is absent.
#[derive(Debug, Clone, Copy)]
pub struct FieldChange<'a> {
    /// The wire name (`dateFin`).
    pub field: &'a str,
    /// The value before, as sent.
    pub old: Option<&'a str>,
    /// The value after, as sent.
    pub new: Option<&'a str>,
}

/// One changed contract, as a row of the page.
#[derive(Debug, Clone)]
pub struct ChangeRow<'a> {
    /// What happens to it.
    pub kind: ChangeKind,
    /// Its `codeContrat`.
    pub code: &'a str,
    /// `prenomApprenant nomApprenant`.
    pub apprentice: Cow<'a, str>,
    /// `nomGroupe`.
    pub group: &'a str,
    /// `nomSite`.
    pub site: &'a str,
    /// The changed fields of an update; empty otherwise.
    pub fields: Vec<FieldChange<'a>>,
}

/// A problem listed at the top.
#[derive(Debug, Clone)]
pub struct ProblemLine<'a> {
    /// Whether it refuses the sync (else a warning).
    pub error: bool,
    /// Where it was found (a file), if the page shows several sources.
    pub source: Option<&'a str>,
    /// `#12 C0042 emailApprenant: email_conflict: ...`.
    pub text: String,
}

/// The four counts of a diff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Unchanged contracts.
    pub same: usize,
    /// New contracts.
    pub added: usize,
    /// Changed contracts.
    pub updated: usize,
    /// Archived contracts.
    pub removed: usize,
}

/// How the page moves between pages and filters.
#[derive(Debug, Clone)]
pub enum Navigation {
    /// The server filters and pages: a GET form for the filter (with `hidden` fields such as
    /// the key) and links to the other pages.
    Server {
        /// The form's action (a path).
        action: String,
        /// Hidden fields sent with the filter (`key`).
        hidden: Vec<(String, String)>,
        /// The filter shown in the box.
        query: String,
        /// 1-based page shown.
        page: usize,
        /// Number of pages of the filtered changes (at least 1).
        pages: usize,
        /// Changes matching the filter, on all pages.
        matching: usize,
        /// The link to page `N` is this followed by `N`.
        page_href: String,
    },
    /// Every change is in the page; a small script filters and pages them.
    InPage,
}

/// A notice at the top: the result of an approval or a rejection.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Whether it went through.
    pub ok: bool,
    /// What happened, in a sentence.
    pub text: String,
}

/// The Approve and Reject buttons of a held run: each a POST form to its action.
#[derive(Debug, Clone)]
pub struct Actions {
    /// Where Approve posts.
    pub approve: String,
    /// Where Reject posts.
    pub reject: String,
}

/// Everything the page shows.
#[derive(Debug, Clone)]
pub struct DiffView<'a> {
    /// The `<title>` and heading.
    pub title: String,
    /// Facts under the heading (`runId`, `receivedAt`, the files compared).
    pub facts: Vec<(&'a str, String)>,
    /// A notice above everything else.
    pub notice: Option<Notice>,
    /// The four counts.
    pub counts: Counts,
    /// Problems to list at the top (at most [`PROBLEMS_SHOWN`] are shown).
    pub problems: Vec<ProblemLine<'a>>,
    /// A sentence shown when there is no diff to show (`nothing compared`).
    pub no_changes_reason: Option<String>,
    /// The changes of this page (or all of them, [`Navigation::InPage`]).
    pub changes: Vec<ChangeRow<'a>>,
    /// Paging and filtering.
    pub navigation: Navigation,
    /// Approve and Reject, for a held run.
    pub actions: Option<Actions>,
}

/// The whole page.
pub fn render(view: &DiffView<'_>) -> String {
    let mut out = String::with_capacity(16 * 1024 + view.changes.len() * 512);
    write_page(&mut out, view).expect("writing to a String does not fail");
    out
}

/// The page, written to `out` (a file's writer, without holding the page in memory).
pub fn write_page(out: &mut impl Write, view: &DiffView<'_>) -> fmt::Result {
    let in_page = matches!(view.navigation, Navigation::InPage);
    out.write_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")?;
    out.write_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")?;
    // Nothing is ever loaded from elsewhere, even if a value slipped through unescaped.
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src {}; form-action 'self'; base-uri 'none'\">",
        if in_page { "'unsafe-inline'" } else { "'none'" }
    )?;
    out.write_str("<meta name=\"referrer\" content=\"no-referrer\">\n")?;
    writeln!(out, "<title>{}</title>", Escaped(&view.title))?;
    writeln!(out, "<style>{STYLE}</style>")?;
    if in_page {
        // Without a script, every change is shown.
        out.write_str("<noscript><style>#changes>tbody.c[hidden]{display:table-row-group}@media (max-width:720px){#changes>tbody.c[hidden]{display:block}}#nav{display:none}</style></noscript>\n")?;
    }
    out.write_str("</head>\n<body>\n<main>\n")?;
    writeln!(out, "<h1>{}</h1>", Escaped(&view.title))?;
    if let Some(notice) = &view.notice {
        writeln!(
            out,
            "<p id=\"notice\" class=\"notice {}\" role=\"status\">{}</p>",
            if notice.ok { "ok" } else { "bad" },
            Escaped(&notice.text)
        )?;
    }
    if !view.facts.is_empty() {
        out.write_str("<dl class=\"facts\">")?;
        for (name, value) in &view.facts {
            write!(
                out,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                Escaped(name),
                Escaped(value)
            )?;
        }
        out.write_str("</dl>\n")?;
    }
    write_counts(out, &view.counts)?;
    if let Some(actions) = &view.actions {
        write_actions(out, actions)?;
    }
    write_problems(out, &view.problems)?;
    if let Some(reason) = &view.no_changes_reason {
        writeln!(out, "<p class=\"none\">{}</p>", Escaped(reason))?;
    } else {
        write_filter(out, &view.navigation)?;
        write_changes(out, view)?;
        write_paging(out, &view.navigation)?;
    }
    out.write_str("</main>\n")?;
    if in_page {
        writeln!(out, "<script>{SCRIPT}</script>")?;
    }
    out.write_str("</body>\n</html>\n")
}

/// A page with a heading and a sentence (not found, not available).
pub fn message_page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n<p>{text}</p>\n\
         </main>\n</body>\n</html>\n",
        title = Escaped(title),
        text = Escaped(text)
    )
}

fn write_counts(out: &mut impl Write, counts: &Counts) -> fmt::Result {
    out.write_str("<h2 class=\"sr\">Counts</h2>\n<ul class=\"counts\">")?;
    for (name, n) in [
        ("same", counts.same),
        ("added", counts.added),
        ("updated", counts.updated),
        ("removed", counts.removed),
    ] {
        write!(
            out,
            "<li class=\"k-{name}\"><span class=\"n\" id=\"count-{name}\">{n}</span> <span class=\"l\">{name}</span></li>"
        )?;
    }
    out.write_str("</ul>\n")
}

fn write_actions(out: &mut impl Write, actions: &Actions) -> fmt::Result {
    writeln!(
        out,
        "<section class=\"actions\" aria-label=\"Decision\">\
         <form method=\"post\" action=\"{}\"><button type=\"submit\" id=\"approve\" class=\"approve\">Approve: apply this sync</button></form>\
         <form method=\"post\" action=\"{}\"><button type=\"submit\" id=\"reject\" class=\"reject\">Reject: drop it</button></form>\
         </section>",
        Escaped(&actions.approve),
        Escaped(&actions.reject)
    )
}

fn write_problems(out: &mut impl Write, problems: &[ProblemLine<'_>]) -> fmt::Result {
    if problems.is_empty() {
        return Ok(());
    }
    let errors = problems.iter().filter(|p| p.error).count();
    writeln!(
        out,
        "<section id=\"problems\"><h2>Problems: {errors} error(s), {} warning(s)</h2><ul>",
        problems.len() - errors
    )?;
    for problem in problems.iter().take(PROBLEMS_SHOWN) {
        write!(
            out,
            "<li class=\"{}\"><strong>{}</strong> ",
            if problem.error { "error" } else { "warning" },
            if problem.error { "error" } else { "warning" }
        )?;
        if let Some(source) = problem.source {
            write!(out, "<span class=\"src\">{}</span> ", Escaped(source))?;
        }
        writeln!(out, "{}</li>", Escaped(&problem.text))?;
    }
    if problems.len() > PROBLEMS_SHOWN {
        writeln!(
            out,
            "<li>and {} more (`sync-cli validate` lists them all)</li>",
            problems.len() - PROBLEMS_SHOWN
        )?;
    }
    out.write_str("</ul></section>\n")
}

fn write_filter(out: &mut impl Write, navigation: &Navigation) -> fmt::Result {
    let label = "Filter by codeContrat or apprentice name";
    match navigation {
        Navigation::Server {
            action,
            hidden,
            query,
            matching,
            ..
        } => {
            write!(
                out,
                "<form class=\"filter\" role=\"search\" method=\"get\" action=\"{}\">",
                Escaped(action)
            )?;
            for (name, value) in hidden {
                write!(
                    out,
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    Escaped(name),
                    Escaped(value)
                )?;
            }
            write!(
                out,
                "<label for=\"q\">{label}</label><span class=\"row\">\
                 <input id=\"q\" name=\"q\" type=\"search\" value=\"{}\" autocomplete=\"off\">\
                 <button type=\"submit\">Filter</button></span></form>\n\
                 <p id=\"matching\" role=\"status\">{matching} matching change(s)</p>\n",
                Escaped(query)
            )
        }
        Navigation::InPage => write!(
            out,
            "<form class=\"filter\" role=\"search\" id=\"filter\"><label for=\"q\">{label}</label>\
             <span class=\"row\"><input id=\"q\" name=\"q\" type=\"search\" autocomplete=\"off\"></span></form>\n\
             <p id=\"matching\" role=\"status\" aria-live=\"polite\"></p>\n"
        ),
    }
}

fn write_changes(out: &mut impl Write, view: &DiffView<'_>) -> fmt::Result {
    let in_page = matches!(view.navigation, Navigation::InPage);
    out.write_str(
        "<table id=\"changes\"><caption class=\"sr\">Changes</caption><thead><tr>\
         <th scope=\"col\">change</th><th scope=\"col\">codeContrat</th>\
         <th scope=\"col\">apprentice (prenomApprenant nomApprenant)</th>\
         <th scope=\"col\">nomGroupe</th><th scope=\"col\">nomSite</th></tr></thead>\n",
    )?;
    for (i, change) in view.changes.iter().enumerate() {
        let kind = change.kind.as_str();
        out.write_str("<tbody class=\"c\"")?;
        if in_page {
            // What the script's filter matches: the code and the name, in lower case.
            write!(
                out,
                " data-q=\"{} {}\"",
                Escaped(&change.code.to_lowercase()),
                Escaped(&change.apprentice.to_lowercase())
            )?;
            if i >= IN_PAGE_SIZE {
                out.write_str(" hidden")?;
            }
        }
        write!(
            out,
            "><tr class=\"k-{kind}\"><td><span class=\"badge\">{kind}</span></td>\
             <th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            Escaped(change.code),
            Escaped(&change.apprentice),
            Escaped(change.group),
            Escaped(change.site)
        )?;
        if !change.fields.is_empty() {
            out.write_str(
                "<tr class=\"fields\"><td colspan=\"5\"><table class=\"f\"><thead><tr>\
                 <th scope=\"col\">field</th><th scope=\"col\">old</th><th scope=\"col\">new</th></tr></thead><tbody>",
            )?;
            for field in &change.fields {
                write!(
                    out,
                    "<tr><th scope=\"row\">{}</th><td>",
                    Escaped(field.field)
                )?;
                write_side(out, field.old, field.new, Side::Old)?;
                out.write_str("</td><td>")?;
                write_side(out, field.old, field.new, Side::New)?;
                out.write_str("</td></tr>")?;
            }
            out.write_str("</tbody></table></td></tr>")?;
        }
        out.write_str("</tbody>\n")?;
    }
    out.write_str("</table>\n")?;
    if view.changes.is_empty() {
        out.write_str("<p class=\"none\" id=\"nochange\">No change to show.</p>\n")?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Old,
    New,
}

/// One side of a changed field: the part that differs from the other side marked (`<del>` on
/// the old side, `<ins>` on the new one), the common start and end left plain.
fn write_side(
    out: &mut impl Write,
    old: Option<&str>,
    new: Option<&str>,
    side: Side,
) -> fmt::Result {
    let (this, other) = match side {
        Side::Old => (old, new),
        Side::New => (new, old),
    };
    let Some(this) = this else {
        return out.write_str("<span class=\"absent\">(absent)</span>");
    };
    if this.is_empty() {
        return out.write_str("<span class=\"absent\">(empty)</span>");
    }
    let other = other.unwrap_or("");
    let (prefix, suffix) = common_ends(this, other);
    let middle = &this[prefix..this.len() - suffix];
    write!(out, "{}", Escaped(&this[..prefix]))?;
    if !middle.is_empty() {
        let tag = if side == Side::Old { "del" } else { "ins" };
        write!(out, "<{tag}>{}</{tag}>", Escaped(middle))?;
    }
    write!(out, "{}", Escaped(&this[this.len() - suffix..]))
}

/// Byte lengths of the longest common prefix and suffix of `a` and `b`, on character
/// boundaries and not overlapping in `a` or in `b`.
fn common_ends(a: &str, b: &str) -> (usize, usize) {
    let prefix: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    let suffix: usize = a_rest
        .chars()
        .rev()
        .zip(b_rest.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    (prefix, suffix)
}

fn write_paging(out: &mut impl Write, navigation: &Navigation) -> fmt::Result {
    match navigation {
        Navigation::Server {
            page,
            pages,
            page_href,
            ..
        } => {
            let (page, pages) = (*page, *pages);
            if pages <= 1 && page <= 1 {
                return Ok(());
            }
            out.write_str("<nav class=\"paging\" aria-label=\"Pages\">")?;
            if page > 1 {
                write!(
                    out,
                    "<a rel=\"prev\" id=\"prev\" href=\"{}{}\">Previous page</a>",
                    Escaped(page_href),
                    page.min(pages + 1) - 1
                )?;
            }
            write!(out, "<span id=\"pageinfo\">page {page} of {pages}</span>")?;
            if page < pages {
                write!(
                    out,
                    "<a rel=\"next\" id=\"next\" href=\"{}{}\">Next page</a>",
                    Escaped(page_href),
                    page + 1
                )?;
            }
            out.write_str("</nav>\n")
        }
        Navigation::InPage => writeln!(
            out,
            "<nav class=\"paging\" id=\"nav\" aria-label=\"Pages\" data-size=\"{IN_PAGE_SIZE}\">\
             <button type=\"button\" id=\"prev\">Previous page</button>\
             <span id=\"pageinfo\"></span>\
             <button type=\"button\" id=\"next\">Next page</button></nav>"
        ),
    }
}

/// Small and readable at 320 px; contrast at least 4.5:1 everywhere (7:1 for body text).
const STYLE: &str = "\
:root{color-scheme:light;--fg:#1a1a1a;--muted:#4a4a4a;--line:#c8c8c8;--focus:#0b57d0}\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:#fff}\
main{max-width:72rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem;margin:.5rem 0;overflow-wrap:anywhere}\
h2{font-size:1.15rem}\
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}\
.facts{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:.5rem 0}\
.facts div{display:flex;gap:.4rem}.facts dt{color:var(--muted)}.facts dd{margin:0;font-family:ui-monospace,monospace;overflow-wrap:anywhere}\
.counts{list-style:none;padding:0;margin:1rem 0;display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:.5rem}\
.counts li{border:1px solid var(--line);border-radius:.5rem;padding:.5rem .75rem}\
.counts .n{display:block;font-size:1.6rem;font-weight:700}\
.counts .l{color:var(--muted)}\
.counts .k-added{border-left:6px solid #1b6e2a}.counts .k-updated{border-left:6px solid #8a5a00}.counts .k-removed{border-left:6px solid #b3261e}\
.notice{padding:.75rem 1rem;border-radius:.5rem;font-weight:600}\
.notice.ok{background:#e3f4e6;color:#0f4d1c}.notice.bad{background:#fde7e7;color:#7d1410}\
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}\
button,input{font:inherit}\
button{cursor:pointer;border-radius:.4rem;padding:.55rem 1rem;border:2px solid #1a1a1a;background:#f2f2f2;color:#1a1a1a}\
button.approve{background:#1b5e20;border-color:#1b5e20;color:#fff}\
button.reject{background:#fff;border-color:#b3261e;color:#8c1d18}\
#problems{border:1px solid #e0b4b4;border-radius:.5rem;padding:0 1rem;margin:1rem 0;background:#fffafa}\
#problems ul{padding-left:1.2rem}#problems li{margin:.25rem 0;overflow-wrap:anywhere}\
#problems .error strong{color:#8c1d18}#problems .warning strong{color:#6b4700}#problems .src{font-family:ui-monospace,monospace}\
.filter{margin:1rem 0 .25rem}.filter label{display:block;font-weight:600}\
.filter .row{display:flex;gap:.5rem;max-width:32rem}\
.filter input{flex:1;min-width:0;padding:.45rem .6rem;border:2px solid #5f5f5f;border-radius:.4rem}\
#matching{color:var(--muted);margin:.25rem 0 .75rem}\
table{border-collapse:collapse;width:100%}\
#changes>thead th{text-align:left;border-bottom:2px solid var(--fg);padding:.4rem}\
#changes>tbody>tr>td,#changes>tbody>tr>th{padding:.4rem;text-align:left;vertical-align:top;overflow-wrap:break-word}\
#changes>tbody>tr:first-child{border-top:1px solid var(--line)}\
#changes>tbody>tr>th{font-family:ui-monospace,monospace;font-weight:600}\
.badge{white-space:nowrap;display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.85rem;font-weight:600;border:1px solid}\
.k-added .badge{color:#0f4d1c;background:#e3f4e6}.k-updated .badge{color:#5c3c00;background:#fff2d6}.k-removed .badge{color:#7d1410;background:#fde7e7}\
.fields>td{padding:0 .4rem .6rem 2rem}\
table.f{font-size:.95rem;border:1px solid var(--line)}\
table.f th,table.f td{padding:.25rem .5rem;text-align:left;vertical-align:top;border-bottom:1px solid #e6e6e6;overflow-wrap:anywhere}\
table.f thead th{background:#f4f4f4;color:var(--muted);font-weight:600}\
table.f tbody th{font-family:ui-monospace,monospace;font-weight:600;width:14rem}\
table.f td{width:40%;font-family:ui-monospace,monospace;white-space:pre-wrap}\
del{background:#fbd3d0;color:#6e0f0b;text-decoration:line-through}\
ins{background:#cdebd3;color:#0b3d16;text-decoration:none;border-bottom:2px solid #1b6e2a}\
.absent{color:var(--muted);font-style:italic;font-family:system-ui,sans-serif}\
.paging{display:flex;align-items:center;gap:1rem;flex-wrap:wrap;margin:1rem 0}.paging[hidden]{display:none}\
.paging a{padding:.4rem .2rem;color:#0b57d0}\
.none{color:var(--muted)}\
@media (max-width:720px){\
main{padding:.75rem}\
.counts{grid-template-columns:repeat(2,minmax(0,1fr))}\
#changes>thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
#changes,#changes>tbody,#changes>tbody>tr,#changes>tbody>tr>td,#changes>tbody>tr>th{display:block;width:100%}\
#changes>tbody{border:1px solid var(--line);border-radius:.5rem;margin:.6rem 0;padding:.3rem .5rem}\
#changes>tbody>tr>td,#changes>tbody>tr>th{padding:.1rem 0}\
#changes>tbody[hidden]{display:none}\
#changes>tbody>tr:first-child{border:0}\
#changes>tbody>tr:first-child>*::before{color:var(--muted);font-weight:400;font-family:system-ui,sans-serif}\
#changes>tbody>tr:first-child>:nth-child(1)::before{content:'change: '}\
#changes>tbody>tr:first-child>:nth-child(2)::before{content:'codeContrat: '}\
#changes>tbody>tr:first-child>:nth-child(3)::before{content:'apprentice: '}\
#changes>tbody>tr:first-child>:nth-child(4)::before{content:'nomGroupe: '}\
#changes>tbody>tr:first-child>:nth-child(5)::before{content:'nomSite: '}\
.fields>td{padding:.25rem 0}\
table.f thead{display:none}\
table.f,table.f tbody,table.f tr,table.f th,table.f td{display:block;width:auto}\
table.f tbody th{width:auto;background:#f4f4f4}\
table.f td::before{color:var(--muted);font-family:system-ui,sans-serif}\
table.f td:nth-child(2)::before{content:'old: '}table.f td:nth-child(3)::before{content:'new: '}\
}";

/// The filter and the pages of a file: rows whose code or name contains the filter (case
/// insensitive), [`IN_PAGE_SIZE`] per page.
const SCRIPT: &str = "(function(){\
var all=[].slice.call(document.querySelectorAll('#changes>tbody.c'));\
var nav=document.getElementById('nav'),size=+nav.getAttribute('data-size');\
var box=document.getElementById('q'),info=document.getElementById('pageinfo');\
var prev=document.getElementById('prev'),next=document.getElementById('next');\
var matching=document.getElementById('matching');\
var rows=all,page=0,shown=all.slice(0,size);\
function draw(){\
var pages=Math.max(1,Math.ceil(rows.length/size));if(page>=pages)page=pages-1;\
shown.forEach(function(r){r.hidden=true});\
shown=rows.slice(page*size,(page+1)*size);\
shown.forEach(function(r){r.hidden=false});\
matching.textContent=rows.length+' matching change(s)';\
info.textContent='page '+(page+1)+' of '+pages;\
prev.disabled=page===0;next.disabled=page>=pages-1;\
nav.hidden=pages<2;}\
function filter(){var q=box.value.trim().toLowerCase();\
rows=q?all.filter(function(r){return r.getAttribute('data-q').indexOf(q)>=0}):all;page=0;draw();}\
box.addEventListener('input',filter);box.addEventListener('change',filter);\
document.getElementById('filter').addEventListener('submit',function(e){e.preventDefault();filter();});\
prev.addEventListener('click',function(){page--;draw();});\
next.addEventListener('click',function(){page++;draw();});\
filter();})();";

#[cfg(test)]
mod tests {
    use super::*;

    fn check_escaped(input: &str, expected: &str) {
        assert_eq!(Escaped(input).to_string(), expected);
    }

    #[test]
    fn escaping() {
        check_escaped("plain é", "plain é");
        check_escaped(
            "<script>alert(\"x\" & 'y')</script>",
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;",
        );
        check_escaped("&amp;", "&amp;amp;");
    }

    fn check_side(old: Option<&str>, new: Option<&str>, expected_old: &str, expected_new: &str) {
        let mut o = String::new();
        write_side(&mut o, old, new, Side::Old).unwrap();
        let mut n = String::new();
        write_side(&mut n, old, new, Side::New).unwrap();
        assert_eq!((o.as_str(), n.as_str()), (expected_old, expected_new));
    }

    #[test]
    fn the_difference_is_marked() {
        check_side(
            Some("Boulangerie du Parc"),
            Some("Boulangerie du Parc SARL"),
            "Boulangerie du Parc",
            "Boulangerie du Parc<ins> SARL</ins>",
        );
        check_side(
            Some("30/06/2027"),
            Some("31/07/2027"),
            "3<del>0/06</del>/2027",
            "3<ins>1/07</ins>/2027",
        );
        check_side(
            Some("30/06/2027"),
            None,
            "<del>30/06/2027</del>",
            "<span class=\"absent\">(absent)</span>",
        );
        check_side(
            Some(""),
            Some("x"),
            "<span class=\"absent\">(empty)</span>",
            "<ins>x</ins>",
        );
        // Character boundaries: é and è share their first byte.
        check_side(Some("é"), Some("è"), "<del>é</del>", "<ins>è</ins>");
        // Overlap: "aa" against "a" keeps one common a, not two.
        check_side(Some("aa"), Some("a"), "a<del>a</del>", "a");
        check_side(
            Some("<b>"),
            Some("<i>"),
            "&lt;<del>b</del>&gt;",
            "&lt;<ins>i</ins>&gt;",
        );
    }

    fn view(changes: Vec<ChangeRow<'static>>, navigation: Navigation) -> DiffView<'static> {
        DiffView {
            title: "Run <1>".into(),
            facts: vec![("runId", "r\"1".into())],
            notice: None,
            counts: Counts {
                same: 1,
                added: 2,
                updated: 3,
                removed: 4,
            },
            problems: vec![ProblemLine {
                error: false,
                source: Some("a<b.json"),
                text: "#0 C1 x: unknown_field: <x>".into(),
            }],
            no_changes_reason: None,
            changes,
            navigation,
            actions: None,
        }
    }

    fn row(code: &'static str) -> ChangeRow<'static> {
        ChangeRow {
            kind: ChangeKind::Removed,
            code,
            apprentice: "Léa <Martin>".into(),
            group: "G",
            site: "S",
            fields: vec![],
        }
    }

    #[test]
    fn a_page_escapes_every_value_and_pages_in_page() {
        let rows = (0..IN_PAGE_SIZE + 1)
            .map(|i| row(Box::leak(format!("C{i}").into_boxed_str())))
            .collect();
        let html = render(&view(rows, Navigation::InPage));
        assert!(html.contains("<title>Run &lt;1&gt;</title>"));
        assert!(html.contains("r&quot;1"));
        assert!(html.contains("a&lt;b.json"));
        assert!(html.contains("&lt;x&gt;"));
        assert!(html.contains("Léa &lt;Martin&gt;"));
        assert!(html.contains("data-q=\"c0 léa &lt;martin&gt;\""));
        assert!(!html.contains("<x>") && !html.contains("<Martin>"));
        // The first page is shown, the rest hidden until the script pages them.
        assert_eq!(html.matches("<tbody class=\"c\"").count(), IN_PAGE_SIZE + 1);
        assert_eq!(html.matches(" hidden>").count(), 1);
        assert!(html.contains("<script>"));
        assert!(html.contains("id=\"count-removed\">4<"));
    }

    #[test]
    fn a_server_page_has_links_and_no_script() {
        let navigation = Navigation::Server {
            action: "/review/r1".into(),
            hidden: vec![("key".into(), "k\"1".into())],
            query: "<q>".into(),
            page: 2,
            pages: 3,
            matching: 700,
            page_href: "/review/r1?key=k&q=%3Cq%3E&page=".into(),
        };
        let html = render(&view(vec![row("C1")], navigation));
        assert!(!html.contains("<script"));
        assert!(html.contains("value=\"k&quot;1\""));
        assert!(html.contains("value=\"&lt;q&gt;\""));
        assert!(html.contains("href=\"/review/r1?key=k&amp;q=%3Cq%3E&amp;page=1\""));
        assert!(html.contains("href=\"/review/r1?key=k&amp;q=%3Cq%3E&amp;page=3\""));
        assert!(html.contains("page 2 of 3"));
        assert!(html.contains("700 matching change(s)"));
    }
}
