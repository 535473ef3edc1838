//! Checks that keep the docs true to the code (in the manner of rust-analyzer's xtask/src/tidy.rs):
//! every module is in docs/ARCHITECTURE.md's code map, every folder in README's Layout, every
//! Rust file opens with a `//!` line saying what it is for, and the docs link only to files and
//! headings that exist. Tests only: `cargo test -p xtask`, so the native tests of
//! `cargo xtask test`, run them.

use crate::util::root;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// The source folders whose every module the code map must name.
const MAPPED: &[&str] =
    &["src", "protocol/src", "serving/src", "sim/src", "xtask/src", "firmware/esp32c3/src"];

/// Folders never walked: build output, installed packages, the e2e venv, git.
fn skipped(name: &str) -> bool {
    matches!(name, "target" | "node_modules" | "dist") || name.starts_with('.')
}

/// Every file under `dir` (repository-relative, `/`-separated, sorted), outside [`skipped`] folders.
fn files_under(dir: &str) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !skipped(&name) {
                    walk(root, &path, out);
                }
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = root();
    let mut out = Vec::new();
    walk(&root, &root.join(dir), &mut out);
    out.sort();
    out
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// One `###` (or deeper) heading of the code map that names a folder in backticks, and its text up
/// to the next heading.
#[derive(Debug)]
struct Section {
    /// `src/connection/`: always ends in `/`.
    folder: String,
    text: String,
}

/// The sections of `doc`'s `## Code map`.
fn code_map(doc: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut in_map = false;
    let mut current: Option<Section> = None;
    for line in doc.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            sections.extend(current.take());
            in_map = title.trim().eq_ignore_ascii_case("code map");
            continue;
        }
        if !in_map {
            continue;
        }
        if line.starts_with("###") {
            sections.extend(current.take());
            current = code_spans(line)
                .into_iter()
                .find(|s| s.ends_with('/'))
                .map(|folder| Section { folder: folder.to_string(), text: String::new() });
        } else if let Some(s) = current.as_mut() {
            s.text.push_str(line);
            s.text.push('\n');
        }
    }
    sections.extend(current);
    sections
}

/// What is written between backticks in `text`.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// `a/b/../c` -> `a/c`; `None` when it climbs out of the repository.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

/// What the code map of `doc` lacks or gets wrong, given the modules (`.rs` files under the
/// [`MAPPED`] folders) and which repository paths exist. Each problem names the file and the fix.
fn code_map_problems(doc: &str, modules: &[String], exists: impl Fn(&str) -> bool) -> Vec<String> {
    let sections = code_map(doc);
    let mut problems = Vec::new();
    if sections.is_empty() {
        problems.push(
            "docs/ARCHITECTURE.md has no `## Code map` with ### `folder/` headings: add them".to_string(),
        );
        return problems;
    }
    // Where a backticked name in a section points: beside the section's folder, else from the root.
    let resolve = |section: &Section, name: &str| -> Option<String> {
        [Path::new(&section.folder).join(name), PathBuf::from(name)]
            .iter()
            .filter_map(|p| normalize(p))
            .find(|p| exists(p))
    };
    let folders: BTreeSet<String> = modules
        .iter()
        .map(|m| m.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default())
        .collect();
    for folder in &folders {
        if !sections.iter().any(|s| &s.folder == folder) {
            problems.push(format!(
                "docs/ARCHITECTURE.md's code map has no heading for {folder}: add the heading ### `{folder}` \
                 and a line for each file in it"
            ));
        }
    }
    for module in modules {
        let (folder, file) = module.rsplit_once('/').unwrap_or(("", module));
        let folder = format!("{folder}/");
        if file == "mod.rs" {
            continue; // the folder's heading is its entry
        }
        let Some(section) = sections.iter().find(|s| s.folder == folder) else { continue };
        let named = code_spans(&section.text).iter().any(|s| resolve(section, s).as_deref() == Some(module));
        if !named {
            problems.push(format!(
                "{module} is missing from docs/ARCHITECTURE.md's code map: add `{file}` and what it is for \
                 under the heading ### `{folder}`"
            ));
        }
    }
    for section in &sections {
        for name in code_spans(&section.text).into_iter().filter(|s| s.ends_with(".rs")) {
            if resolve(section, name).is_none() {
                problems.push(format!(
                    "docs/ARCHITECTURE.md's code map names `{name}` under `{}`, which is not a file: fix the \
                     name or drop it (a generated file is named without backticks)",
                    section.folder
                ));
            }
        }
    }
    problems
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of `doc`'s headings (outside code blocks).
fn anchors(doc: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of `doc`'s links, `[text](target)` and HTML `src="..."`/`href="..."`, outside code
/// blocks and code spans.
fn link_targets(doc: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop code spans: what is between backticks is never a link.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for (i, _) in prose.match_indices("](") {
            let rest = &prose[i + 2..];
            if let Some(end) = rest.find(')') {
                let target = rest[..end].split_whitespace().next().unwrap_or("");
                out.push(target.trim_matches(['<', '>']).to_string());
            }
        }
        for attr in ["src=\"", "href=\""] {
            for (i, _) in prose.match_indices(attr) {
                let rest = &prose[i + attr.len()..];
                if let Some(end) = rest.find('"') {
                    out.push(rest[..end].to_string());
                }
            }
        }
    }
    out
}

/// Broken relative links in the doc at `doc_path` (repository-relative): a file that does not
/// exist, or a `#anchor` that no heading of the target has.
fn link_problems(
    doc_path: &str,
    doc: &str,
    exists: impl Fn(&str) -> bool,
    anchors_of: impl Fn(&str) -> Option<BTreeSet<String>>,
) -> Vec<String> {
    let dir = Path::new(doc_path).parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for target in link_targets(doc) {
        if target.is_empty()
            || target.contains("://")
            || target.starts_with("mailto:")
            || target.starts_with("data:")
        {
            continue;
        }
        let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
        let file = if path.is_empty() { Some(doc_path.to_string()) } else { normalize(&dir.join(path)) };
        let Some(file) = file.filter(|f| exists(f)) else {
            problems.push(format!(
                "{doc_path} links to `{target}`, which is not a file in the repository: fix the link or add \
                 the file"
            ));
            continue;
        };
        if !anchor.is_empty() && file.ends_with(".md") {
            if let Some(found) = anchors_of(&file) {
                if !found.contains(anchor) {
                    problems.push(format!(
                        "{doc_path} links to `{target}`, but {file} has no heading with the anchor \
                         #{anchor}: fix the anchor or the heading"
                    ));
                }
            }
        }
    }
    problems
}

/// The folders README's `## Layout` block does not name (as `name/` anywhere in it).
fn layout_problems(readme: &str, folders: &[String]) -> Vec<String> {
    let layout = readme.split("\n## Layout").nth(1).and_then(|rest| rest.split("```").nth(1)).unwrap_or("");
    folders
        .iter()
        .filter(|f| !layout.contains(&format!("{f}/")))
        .map(|f| format!("README.md's Layout does not name {f}/: add a line `{f}/   what it holds`"))
        .collect()
}

/// Fails the test with every problem, one per line.
fn assert_tidy(problems: Vec<String>) {
    if !problems.is_empty() {
        panic!("\n{} problem(s):\n{}\n", problems.len(), problems.join("\n"));
    }
}

fn exists(rel: &str) -> bool {
    root().join(rel).exists()
}

#[test]
fn every_module_is_in_the_code_map() {
    let modules: Vec<String> =
        MAPPED.iter().flat_map(|dir| files_under(dir)).filter(|f| f.ends_with(".rs")).collect();
    assert!(modules.iter().any(|m| m == "xtask/src/tidy.rs"), "found no modules: {modules:?}");
    assert_tidy(code_map_problems(&read("docs/ARCHITECTURE.md"), &modules, exists));
}

#[test]
fn every_rust_file_says_what_it_is_for() {
    // Every `.rs` file of the repository, tests, fuzz targets and firmware included: each one is
    // read by someone who needs to know why it is there.
    let mut problems = Vec::new();
    for file in files_under("").into_iter().filter(|f| f.ends_with(".rs")) {
        let text = read(&file);
        let first = text.lines().next().unwrap_or("");
        if !first.starts_with("//!") || first.trim_start_matches("//!").trim().is_empty() {
            problems.push(format!(
                "{file} does not open with a `//!` line: add one that says what the file is for"
            ));
        }
    }
    assert_tidy(problems);
}

#[test]
fn docs_link_to_files_that_exist() {
    let docs: Vec<String> = files_under("").into_iter().filter(|f| f.ends_with(".md")).collect();
    assert!(docs.iter().any(|d| d == "docs/ARCHITECTURE.md"), "found no docs: {docs:?}");
    let anchors_of = |f: &str| std::fs::read_to_string(root().join(f)).ok().map(|t| anchors(&t));
    let problems = docs.iter().flat_map(|d| link_problems(d, &read(d), exists, anchors_of)).collect();
    assert_tidy(problems);
}

#[test]
fn readme_layout_names_every_folder() {
    // Every top-level folder and every folder of the app's src/, build output aside.
    let mut folders = Vec::new();
    for (dir, prefix) in [("", ""), ("src", "src/")] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !matches!(name.as_str(), "target" | "dist" | "node_modules" | ".git")
            {
                folders.push(format!("{prefix}{name}"));
            }
        }
    }
    assert!(folders.iter().any(|f| f == "src/connection"), "found no folders: {folders:?}");
    assert_tidy(layout_problems(&read("README.md"), &folders));
}

/// The checker itself, on small docs.
mod checker {
    use super::*;

    const DOC: &str =
        "# How it is built\n\n## Code map\n\n### `src/`\n\n`lib.rs` mounts; `dom.rs` wraps.\n\n\
        ### `src/chart/`: charts\n\n`ring.rs` holds samples, `gone.rs` is stale.\n\n\
        ## Cross-cutting\n\n`x.rs`\n";

    fn modules(m: &[&str]) -> Vec<String> {
        m.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_module_or_folder_missing_from_the_code_map_is_named_with_where_to_add_it() {
        let have = ["src/lib.rs", "src/dom.rs", "src/chart/mod.rs", "src/chart/ring.rs", "src/chart/csv.rs"];
        let exists = |p: &str| have.contains(&p) || p == "src/chart/draw.rs";
        let problems = code_map_problems(
            DOC,
            &modules(&[
                "src/lib.rs",
                "src/dom.rs",
                "src/chart/mod.rs",
                "src/chart/ring.rs",
                "src/chart/csv.rs",
                "src/pwa/mod.rs",
            ]),
            exists,
        );
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("no heading for src/pwa/"), "{}", problems[0]);
        assert!(problems[1].starts_with("src/chart/csv.rs is missing") && problems[1].contains("`csv.rs`"));
        assert!(problems[2].contains("`gone.rs` under `src/chart/`, which is not a file"), "{}", problems[2]);
    }

    #[test]
    fn a_complete_code_map_passes_and_names_outside_it_are_not_its_business() {
        let have = ["src/lib.rs", "src/dom.rs", "src/chart/ring.rs", "src/chart/gone.rs"];
        let problems = code_map_problems(
            DOC,
            &modules(&["src/lib.rs", "src/dom.rs", "src/chart/mod.rs", "src/chart/ring.rs"]),
            |p| have.contains(&p),
        );
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn names_with_a_path_resolve_from_the_folder_or_the_root() {
        let doc = "## Code map\n### `src/`\n`chart/ring.rs` and `sim/src/car.rs`\n";
        let have = ["src/chart/ring.rs", "sim/src/car.rs"];
        assert!(code_map_problems(doc, &modules(&["src/chart/ring.rs"]), |p| have.contains(&p))
            .iter()
            .all(|p| p.contains("no heading for src/chart/")));
    }

    #[test]
    fn links_are_checked_against_files_and_headings_but_not_urls_or_code() {
        let doc = "# Top\n## Trying it\n[a](docs/A.md) [b](docs/B.md) [c](#trying-it) [d](#nope) \
            [e](https://x.org/y) `[f](g.md)` <img src=\"docs/shot.png\"> [h](../outside.md)\n\
            ```\n[i](j.md)\n```\n[k](docs/A.md#the-rules)\n";
        let files = ["README.md", "docs/A.md", "docs/shot.png"];
        let anchors_of = |f: &str| match f {
            "README.md" => Some(anchors(doc)),
            "docs/A.md" => Some(anchors("# A\n## The rules\n")),
            _ => None,
        };
        let problems = link_problems("README.md", doc, |p| files.contains(&p), anchors_of);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("`docs/B.md`, which is not a file"));
        assert!(problems[1].contains("no heading with the anchor #nope"));
        assert!(problems[2].contains("`../outside.md`"));
    }

    #[test]
    fn the_layout_must_name_every_folder_in_its_block() {
        let readme =
            "# x\n\nsrc/ and fuzz/ in prose\n\n## Layout\n\n```\nsrc/chart/   charts\n.ci/run   CI\n```\n";
        let folders: Vec<String> = ["src/chart", ".ci", "fuzz"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            layout_problems(readme, &folders),
            ["README.md's Layout does not name fuzz/: add a line `fuzz/   what it holds`"]
        );
    }

    #[test]
    fn anchors_are_githubs() {
        assert_eq!(slug(" Bird's-eye view"), "birds-eye-view");
        assert_eq!(slug(" `src/connection/`: the link"), "srcconnection-the-link");
        assert_eq!(slug(" Using it with your device"), "using-it-with-your-device");
    }
}
