//! `sync-cli diff --format html`: one self-contained page with the counts, every change and the
//! problems of both files, every value escaped.

use std::path::Path;

use serde_json::Value;

use crate::{data, sync_cli, Run};

/// Writes the HTML report of `previous` against `current` into `out`; the run and the page.
pub fn report(previous: &str, current: &str, out: &Path) -> (Run, String) {
    let run = sync_cli(&[
        "diff",
        previous,
        current,
        "--format",
        "html",
        "--output",
        out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(out).unwrap_or_default();
    (run, html)
}

/// The number shown for `name` (`same`, `added`, ...).
pub fn count(html: &str, name: &str) -> usize {
    let start = format!("id=\"count-{name}\">");
    let at = html
        .find(&start)
        .unwrap_or_else(|| panic!("no {name} count"))
        + start.len();
    html[at..at + html[at..].find('<').unwrap()]
        .parse()
        .unwrap()
}

/// `file` of `tests/data` with `edit` applied to its contracts, written into `dir`.
pub fn edited(dir: &Path, file: &str, edit: impl FnOnce(&mut Vec<Value>)) -> String {
    let text = std::fs::read_to_string(crate::data_path(file)).unwrap();
    let mut contracts: Vec<Value> = serde_json::from_str(&text).unwrap();
    edit(&mut contracts);
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_vec(&contracts).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_report_shows_the_counts_and_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let (run, html) = report(
        &data("previous.json"),
        &data("current.json"),
        &dir.path().join("report.html"),
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    let counts = ["same", "added", "updated", "removed"].map(|name| count(&html, name));
    assert_eq!(counts, [2, 2, 1, 1]);
    // Removed first, then updated, then added; each named by its code.
    let at = |code: &str| {
        html.find(&format!("<th scope=\"row\">{code}</th>"))
            .unwrap()
    };
    assert!(at("CT-0003") < at("CT-0002") && at("CT-0002") < at("CT-0005"));
    assert!(at("CT-0005") < at("CT-0006"));
    assert!(
        !html.contains("<th scope=\"row\">CT-0001</th>"),
        "same is not listed"
    );
    // The changed fields by wire name, the dates as sent, the difference marked.
    assert!(html.contains("<th scope=\"row\">dateFin</th><td><del>30/06/2027</del></td><td><span class=\"absent\">(absent)</span></td>"));
    assert!(html.contains("<td>Boulangerie du Parc<ins> SARL</ins></td>"));
}

#[test]
fn values_are_escaped_and_nothing_is_loaded_from_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let previous = edited(dir.path(), "previous.json", |_| {});
    let current = edited(dir.path(), "current.json", |contracts| {
        contracts[0]["nomEntreprise"] = "<script>alert(\"x\")</script>".into();
        contracts[1]["nomApprenant"] = "<img src=x onerror=alert(1)>".into();
        contracts[2]["missionTitle"] = "\"><a href=\"https://example.org/\">".into();
    });
    let (run, html) = report(&previous, &current, &dir.path().join("report.html"));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&quot;&gt;&lt;a href=&quot;https://example.org/&quot;&gt;"));
    // The page's own small script, and no other.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<img") && !html.contains("<a href=\"https"));
    // No asset and no link: every value that names a URL is the test's own, escaped.
    for attribute in ["src=\"", "href=\"", "url(", "@import", "<link", "<iframe"] {
        assert!(!html.contains(attribute), "{attribute} in the page");
    }
    assert_eq!(html.matches("https:").count(), 1);
    assert!(!html.contains("http:"));
}

#[test]
fn problems_of_either_file_are_listed_at_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let (run, html) = report(
        &data("valid.json"),
        &data("problems.json"),
        &dir.path().join("report.html"),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        html.contains("Problems: 13 error(s), 2 warning(s)"),
        "{html}"
    );
    assert!(html.contains("Nothing compared: "));
    assert_eq!(html.matches("<li class=\"error\">").count(), 13);
    assert!(!html.contains("<tbody class=\"c\""));

    // A valid file's warnings are listed above the diff.
    let (run, html) = report(
        &data("warnings.json"),
        &data("valid.json"),
        &dir.path().join("warnings.html"),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(html.contains("Problems: 0 error(s), "));
    assert!(html.contains("unknown_field"));
    assert!(html.find("id=\"problems\"").unwrap() < html.find("id=\"changes\"").unwrap());
    assert_eq!(count(&html, "added"), 1);
}
