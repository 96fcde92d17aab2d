//! `--format markdown`, the pull-request comment. Every comment here goes through a real
//! CommonMark + GFM renderer (comrak) that lets raw HTML through, so that the checks prove
//! runguard's escaping rather than a renderer's sanitiser: the tables keep their shape, no
//! markup from the plan reaches the HTML, no one is mentioned and no issue is linked.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

use runguard::report::escape::terminal;
use runguard::report::markdown::MAX_NODES;
use runguard::report::markdown::{BUDGET, MARKER, MarkdownOptions, is_clean, render, render_set};
use runguard::report::{Gate, Report};
use runguard::rules::Severity;
use runguard::{Options, analyze};

use crate::support::{root, scenario_plans};

const HOSTILE: &str = "testdata/plans/m01-hostile-names.json";

/// The tags comrak emits for the Markdown runguard writes, plus the `<details>`, `<summary>`,
/// `<b>` and `<br>` runguard writes itself. Anything else came from the plan.
const ALLOWED_TAGS: &[&str] = &[
    "p",
    "h2",
    "h3",
    "strong",
    "em",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "details",
    "summary",
    "b",
    "br",
    "ul",
    "li",
    "blockquote",
    "a",
];

fn gate() -> Gate {
    Gate {
        threshold: Some(Severity::High),
        allow_incomplete: false,
    }
}

fn report(path: &Path) -> Report {
    let bytes = std::fs::read(path).expect("fixture readable");
    analyze(&bytes, &Options::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn comment(r: &Report) -> String {
    let mut out = Vec::new();
    let options = MarkdownOptions {
        gate: gate(),
        all: false,
    };
    render(r, &options, &mut out).expect("render markdown");
    String::from_utf8(out).expect("UTF-8")
}

/// HTML as GitHub would render the comment: GFM tables, autolinks, strikethrough and task
/// lists on, and raw HTML passed through untouched (comrak's tag filter is off by default).
fn to_html(markdown: &str) -> String {
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.strikethrough = true;
    o.extension.tasklist = true;
    o.render.r#unsafe = true;
    comrak::markdown_to_html(markdown, &o)
}

/// The text of an HTML fragment: tags dropped, comrak's entities decoded.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every tag name in the HTML, opening and closing.
fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|t| {
            t.trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '!' || *c == '-')
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .collect()
}

/// The rows of the `n`th table, each as its cells' inner HTML (header row first).
fn table_rows(html: &str, n: usize) -> Vec<Vec<String>> {
    let table = html
        .split("<table>")
        .nth(n + 1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no table {n}"));
    table
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<t")
                .skip(1)
                .filter(|c| c.starts_with('d') || c.starts_with('h'))
                .filter(|c| !c.starts_with("head") && !c.starts_with("body"))
                .map(|c| {
                    let inner = c.split_once('>').map_or("", |(_, rest)| rest);
                    inner.split("</t").next().unwrap_or("").to_owned()
                })
                .collect()
        })
        .collect()
}

/// A cell's items, as plain text (without the zero-width spaces that break mentions).
fn cell_items(cell: &str) -> Vec<String> {
    cell.split("<br>")
        .map(|i| text(i).replace('\u{200b}', "").trim().to_owned())
        .collect()
}

/// The checks on rendered HTML: only the tags runguard's Markdown makes, one comment (the
/// marker), no link but e-mail autolinks, no mention or issue reference.
fn check_html_only(name: &str, html: &str) {
    for tag in tags(html) {
        if tag == "!--" {
            continue;
        }
        assert!(
            ALLOWED_TAGS.contains(&tag.as_str()),
            "{name}: unexpected <{tag}> in\n{html}"
        );
    }
    assert_eq!(html.matches("<!--").count(), 1, "{name}: only the marker");
    for href in html.split("href=\"").skip(1) {
        assert!(href.starts_with("mailto:"), "{name}: link {href}");
    }
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "{name}"
    );

    // No mention and no issue reference survives as text GitHub would link (it links none
    // inside code blocks, where Mermaid's entity codes such as `#91;` stand).
    let outside_code: String = html
        .split("<pre>")
        .map(|part| part.split_once("</pre>").map_or(part, |(_, after)| after))
        .collect();
    let plain = text(&outside_code);
    let chars: Vec<char> = plain.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        let before_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if *c == '@' && !before_word {
            assert!(
                !next.is_alphanumeric(),
                "{name}: a mention at {i} in\n{plain}"
            );
        }
        if *c == '#' {
            assert!(
                !next.is_ascii_digit(),
                "{name}: a reference at {i} in\n{plain}"
            );
        }
    }
}

/// The checks every rendered comment must pass; `name` says which.
fn check_comment(name: &str, r: &Report, md: &str) {
    assert!(
        md.starts_with(&format!("{MARKER}\n")),
        "{name}: marker first"
    );
    let n = md.chars().count();
    assert!(n <= BUDGET, "{name}: {n} chars");
    let html = to_html(md);
    check_html_only(name, &html);

    // The findings table has one row per finding (unless it was cut) and five cells in each row,
    // and each causes / workloads cell holds exactly what the report says: no cell spilled.
    if !r.findings.is_empty() {
        let rows = table_rows(&html, 0);
        if md.contains("findings (the least severe)") {
            assert!(
                rows.len() <= r.findings.len(),
                "{name}: rows of a cut table"
            );
        } else {
            assert_eq!(rows.len(), r.findings.len() + 1, "{name}: rows");
        }
        for (row, f) in rows.iter().skip(1).zip(&r.findings) {
            assert_eq!(row.len(), 5, "{name}: cells of {row:?}");
            let shown = |items: &[&str], limit: usize| -> Vec<String> {
                let mut v: Vec<String> = items
                    .iter()
                    .take(limit)
                    .map(|s| terminal(s).into_owned())
                    .collect();
                if items.len() > limit {
                    v.push(format!("and {} more", items.len() - limit));
                }
                v
            };
            let causes: Vec<&str> = f.causes.iter().map(String::as_str).collect();
            let workloads: Vec<&str> = f.workloads.iter().map(|w| &**w).collect();
            assert_eq!(cell_items(&row[3]), shown(&causes, 5), "{name}: causes");
            assert_eq!(
                cell_items(&row[4]),
                shown(&workloads, 3),
                "{name}: workloads"
            );
            assert!(row[1].contains(f.rule.id), "{name}: rule");
        }
    }
    // Every other table (a workload's posture rows) has four cells in each row.
    for t in 1..html.matches("<table>").count() {
        for row in table_rows(&html, t) {
            assert_eq!(row.len(), 4, "{name}: table {t} row {row:?}");
        }
    }
}

fn adversary_plans() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/adversary"))
        .expect("testdata/adversary exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && !p.to_string_lossy().ends_with(".expect.json")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_scenario_and_adversary_plan_renders_safely() {
    let mut plans = scenario_plans();
    plans.extend(adversary_plans());
    plans.push(root().join("examples/plan.json"));
    for p in &plans {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(p).unwrap();
        let Ok(r) = analyze(&bytes, &Options::default()) else {
            continue;
        };
        check_comment(&name, &r, &comment(&r));
    }
}

#[test]
fn every_corpus_plan_renders_safely() {
    let Some(dir) = crate::corpus::corpus_dir() else {
        return;
    };
    let mut rendered = 0;
    for p in crate::corpus::corpus_files(&dir) {
        let bytes = std::fs::read(&p).unwrap();
        // Files the corpus tests expect refused are not plans to comment on.
        let Ok(r) = analyze(&bytes, &Options::default()) else {
            continue;
        };
        check_comment(&p.display().to_string(), &r, &comment(&r));
        rendered += 1;
    }
    assert!(rendered > 0, "no corpus plan rendered");
}

#[test]
fn hostile_names_stay_text() {
    let r = report(&root().join(HOSTILE));
    let md = comment(&r);
    check_comment("m01", &r, &md);
    let html = to_html(&md);
    let plain = text(&html).replace('\u{200b}', "");
    // What the author wrote is still there to read, as text.
    for shown in [
        "user:<script>alert(1)</script>@acme.com",
        "user:@octocat|`</details>`@acme.com",
        "[x](javascript:alert(1))",
        "![i](https://evil.example/p.png)",
        "user:```\\u{000a}# pwned",
        "serviceAccount:<!-- hidden -->x@acme-prod.iam.gserviceaccount.com",
        "user:$\\color{red}{x}$ **bold** _em_ ~~s~~@acme.com",
    ] {
        assert!(plain.contains(shown), "{shown} not shown in\n{plain}");
    }
    // One details block per changed workload, closed where runguard closes it.
    assert_eq!(html.matches("<details>").count(), 1);
    assert_eq!(html.matches("</details>").count(), 2, "graph and workload");
    // The bindings diff keeps one line per member: a newline in a member forges no line.
    let diff = md
        .split("diff\n")
        .nth(1)
        .and_then(|d| d.split("\n````").next())
        .expect("a diff block");
    assert_eq!(diff.lines().count(), 11, "{diff}");
    assert!(html.contains("<pre><code class=\"language-diff\">"));
}

#[test]
fn markdown_snapshots() {
    for fixture in [
        "examples/plan.json",
        HOSTILE,
        "testdata/plans/a03-v2-policy-removes-allusers.json",
        "testdata/plans/b17-no-cloud-run.json",
    ] {
        let name = Path::new(fixture).file_stem().unwrap().to_string_lossy();
        insta::assert_snapshot!(
            format!("{name}.md"),
            comment(&report(&root().join(fixture)))
        );
    }
}

#[test]
fn the_verdict_mark_follows_the_gate_and_the_unknowns() {
    let first_lines = |fixture: &str| -> String {
        let md = comment(&report(&root().join(fixture)));
        md.lines().nth(1).unwrap().to_owned()
    };
    assert_eq!(
        first_lines("examples/plan.json"),
        "## ❌ runguard: action needed"
    );
    // A medium finding only: below the gate.
    assert_eq!(
        first_lines("testdata/plans/a07-domain-invoker.json"),
        "## ⚠️ runguard: review"
    );
    assert_eq!(
        first_lines("testdata/plans/b17-no-cloud-run.json"),
        "## ✅ runguard: no security change"
    );
    // An improvement only.
    assert_eq!(
        first_lines("testdata/plans/a13-member-deleted.json"),
        "## ✅ runguard: nothing to act on"
    );
}

#[test]
fn an_accepted_finding_says_why() {
    let mut r = report(&root().join("examples/plan.json"));
    r.findings[0].accepted = Some(runguard::Accepted {
        reason: "public by design, see @octocat".into(),
        line: 7,
    });
    let md = comment(&r);
    check_comment("accepted", &r, &md);
    let rows = table_rows(&to_html(&md), 0);
    assert!(
        text(&rows[1][2])
            .replace('\u{200b}', "")
            .contains("accepted: public by design, see @octocat (runguard.toml line 7)"),
        "{:?}",
        rows[1]
    );
}

/// A plan of `n` services, each made public and given one more invoker with a long, hostile
/// name: about two findings per service.
fn big_plan(n: usize) -> Vec<u8> {
    let mut changes = Vec::new();
    for i in 0..n {
        let name = format!("svc{i}");
        let address = format!("google_cloud_run_v2_service.s[\"{name}|`x`</details>\"]");
        let change = |address: String, rtype: &str, after: Value| {
            json!({
                "address": address,
                "mode": "managed",
                "type": rtype,
                "name": "s",
                "provider_name": "registry.terraform.io/hashicorp/google",
                "change": {
                    "actions": ["create"],
                    "before": null,
                    "after": after,
                    "after_unknown": {},
                    "before_sensitive": false,
                    "after_sensitive": {},
                }
            })
        };
        changes.push(change(
            address,
            "google_cloud_run_v2_service",
            json!({
                "name": name,
                "project": "acme-prod",
                "location": "europe-west1",
                "ingress": "INGRESS_TRAFFIC_ALL",
                "invoker_iam_disabled": false,
                "default_uri_disabled": false,
                "iap_enabled": false,
                "template": [{
                    "service_account": format!("sa{i}@acme-prod.iam.gserviceaccount.com"),
                    "containers": [{"image": "europe-west1-docker.pkg.dev/acme-prod/apps/api:1", "env": []}],
                }],
            }),
        ));
        for (k, member) in [
            "allUsers".to_owned(),
            format!("user:@octocat-{i}-{}@acme.com", "|#1`".repeat(40)),
        ]
        .into_iter()
        .enumerate()
        {
            changes.push(change(
                format!("google_cloud_run_v2_service_iam_member.m[\"{name}-{k}\"]"),
                "google_cloud_run_v2_service_iam_member",
                json!({
                    "name": name,
                    "project": "acme-prod",
                    "location": "europe-west1",
                    "role": "roles/run.invoker",
                    "member": member,
                    "condition": [],
                }),
            ));
        }
    }
    serde_json::to_vec(&json!({
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": changes,
    }))
    .unwrap()
}

#[test]
fn a_huge_plan_is_cut_to_fit_a_comment() {
    let r = analyze(&big_plan(1500), &Options::default()).expect("analysable");
    assert!(r.findings.len() >= 3000, "{} findings", r.findings.len());
    let md = comment(&r);
    let n = md.chars().count();
    assert!(n <= BUDGET, "{n} chars");
    assert!(md.starts_with(MARKER));
    assert!(md.contains(&runguard::report::escape::markdown(&r.headline())));
    // The most severe findings are the ones kept, whole rows only.
    let html = to_html(&md);
    let rows = table_rows(&html, 0);
    assert!(rows.len() > 10, "{} rows", rows.len());
    for row in &rows[1..] {
        assert_eq!(row.len(), 5);
    }
    assert!(rows[1][0].contains("critical"));
    // What was cut, and where to find everything.
    let shown = rows.len() - 1;
    let cut = r.findings.len() - shown;
    assert!(
        md.contains(&format!("{cut} of {} findings", r.findings.len())),
        "{}",
        &md[md.len().saturating_sub(800)..]
    );
    assert!(md.contains("--output json=runguard.json"));
    // The graph stays small.
    let graph = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|g| g.split("```").next())
        .expect("a graph");
    let nodes = graph
        .lines()
        .filter(|l| !l.contains("-->") && !l.contains("==>") && l.starts_with("  "))
        .count();
    assert!(nodes <= MAX_NODES, "{nodes} nodes");
    assert!(graph.contains("more"));
    // A cut comment is still well formed.
    assert_eq!(
        html.matches("<details").count(),
        html.matches("</details>").count()
    );
}

#[test]
fn the_longest_hostile_strings_still_fit() {
    // Every plan string 21,000 characters of what escaping expands most, everywhere at once.
    let worst = "|@a".repeat(7_000);
    let mut r = report(&root().join("examples/plan.json"));
    for f in &mut r.findings {
        f.causes = vec![worst.clone(); 8];
        f.workloads = vec![worst.as_str().into(); 8];
        f.evidence = vec![worst.clone(); 8];
        f.message = worst.clone();
        f.accepted = Some(runguard::Accepted {
            reason: worst.clone(),
            line: 1,
        });
    }
    for w in &mut r.workloads {
        w.id.address = worst.clone();
    }
    r.unanalysable = (0..50)
        .map(|_| runguard::Unanalysable {
            address: worst.clone(),
            reason: worst.clone(),
        })
        .collect();
    r.plan_incomplete = vec![worst.clone(); 50];
    r.unresolved = (0..50)
        .map(|_| runguard::Unresolved {
            address: worst.clone(),
            reason: worst.clone(),
        })
        .collect();
    r.notes = vec![worst.clone(); 50];
    let md = comment(&r);
    assert!(md.chars().count() <= BUDGET, "{} chars", md.chars().count());
    let rows = table_rows(&to_html(&md), 0);
    assert!(rows.len() >= 2, "the most severe finding is kept");
    assert!(rows[1][0].contains("critical"));
    assert!(md.contains("Cut to fit a comment"));
}

#[test]
fn a_comment_for_hundreds_of_plans_still_fits() {
    let r = report(&root().join("examples/plan.json"));
    let results: Vec<(String, Result<Report, String>)> = (0..300)
        .map(|i| {
            let result = if i % 7 == 3 {
                Err(format!(
                    "plan{i}.json: not a plan @octocat {}",
                    "|".repeat(5000)
                ))
            } else {
                Ok(r.clone())
            };
            (format!("plan{i}.json"), result)
        })
        .collect();
    let options = MarkdownOptions {
        gate: gate(),
        all: false,
    };
    let mut out = Vec::new();
    render_set(&results, &options, &mut out).unwrap();
    let md = String::from_utf8(out).unwrap();
    assert!(md.chars().count() <= BUDGET, "{} chars", md.chars().count());
    assert_eq!(md.matches(MARKER).count(), 1);
    assert!(md.contains("### Plan plan0.json"));
    assert!(md.contains("Details cut to fit"));
    assert!(
        md.contains("plans are not shown"),
        "{}",
        &md[md.len() - 500..]
    );
    check_html_only("300 plans", &to_html(&md));
}

fn runguard() -> Command {
    let mut c = Command::cargo_bin("runguard").expect("binary built");
    c.current_dir(root());
    c
}

#[test]
fn skip_clean_prints_nothing_for_a_plan_without_findings() {
    let clean = "testdata/plans/b17-no-cloud-run.json";
    assert!(is_clean(&report(&root().join(clean))));
    let out = runguard()
        .args([clean, "--format", "markdown", "--skip-clean"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    // Without the flag the clean comment is printed; with findings, the flag changes nothing.
    runguard()
        .args([clean, "--format", "markdown"])
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with(MARKER));
    runguard()
        .args(["examples/plan.json", "--format", "markdown", "--skip-clean"])
        .assert()
        .code(1)
        .stdout(predicates::str::starts_with(MARKER));
}

#[test]
fn an_unresolved_value_is_never_skipped() {
    // The runtime identity becomes unknown: no finding, but nothing proves the posture holds.
    let plan = "testdata/plans/d10-identity-becomes-unknown.json";
    let r = report(&root().join(plan));
    assert!(r.findings.is_empty() && !r.unresolved.is_empty());
    assert!(!is_clean(&r));
    runguard()
        .args([plan, "--format", "markdown", "--skip-clean"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("## ⚠️ runguard: review"))
        .stdout(predicates::str::contains("Not resolvable at plan time"));
}

#[test]
fn several_clean_plans_are_skipped_together() {
    let clean = "testdata/plans/b17-no-cloud-run.json";
    runguard()
        .args([clean, "testdata/plans/b18-empty-plan.json"])
        .args(["--format", "markdown", "--skip-clean"])
        .assert()
        .code(0)
        .stdout("");
    runguard()
        .args([clean, "testdata/plans/a07-domain-invoker.json"])
        .args(["--format", "markdown", "--skip-clean"])
        .assert()
        .code(0)
        .stdout(predicates::str::starts_with(MARKER));
}

#[test]
fn all_details_every_workload() {
    // The service stays public: no finding without --all, so no details either.
    let r = report(&root().join("testdata/plans/b14-noop-public-stays.json"));
    let render_with = |all: bool| {
        let mut out = Vec::new();
        let options = MarkdownOptions { gate: gate(), all };
        render(&r, &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert!(!render_with(false).contains("<details>"));
    let all = render_with(true);
    check_comment("b14 --all", &r, &all);
    assert!(all.contains("### Workloads, before → after"));
    assert_eq!(
        all.matches("<details>\n<summary>").count(),
        r.workloads.len()
    );
}

#[test]
fn an_incomplete_report_is_never_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    let mut plan: Value = serde_json::from_slice(
        &std::fs::read(root().join("testdata/plans/b17-no-cloud-run.json")).unwrap(),
    )
    .unwrap();
    plan["errored"] = json!(true);
    std::fs::write(&path, serde_json::to_vec(&plan).unwrap()).unwrap();
    let r = analyze(&std::fs::read(&path).unwrap(), &Options::default()).unwrap();
    assert!(r.findings.is_empty() && !r.complete());
    let md = comment(&r);
    assert!(md.contains("**Incomplete**"), "{md}");
    runguard()
        .arg(&path)
        .args(["--format", "markdown", "--skip-clean"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("runguard: action needed"));
}

#[test]
fn markdown_is_an_output_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("comment.md");
    runguard()
        .args(["examples/plan.json", "--output"])
        .arg(format!("markdown={}", path.display()))
        .assert()
        .code(1)
        .stdout(predicates::str::contains("Findings, most severe first"));
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        comment(&report(&root().join("examples/plan.json")))
    );
}

#[test]
fn several_plans_make_one_comment() {
    let out = runguard()
        .args([
            "examples/plan.json",
            "testdata/plans/b17-no-cloud-run.json",
            "--format",
            "markdown",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let md = String::from_utf8(out).unwrap();
    assert_eq!(md.matches(MARKER).count(), 1);
    assert!(md.starts_with(MARKER));
    assert!(md.contains("### Plan examples/plan.json"));
    assert!(md.contains("### Plan testdata/plans/b17-no-cloud-run.json"));
    assert!(md.contains("## ❌ runguard: action needed"));
    assert!(md.contains("## ✅ runguard: no security change"));
}
