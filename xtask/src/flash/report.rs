//! `size-report.json` and the printed table: every file's raw and served (gzip) size, gzip -9
//! against zopfli, what a first visit downloads against the budget, and the whole bundle against
//! the LittleFS partition it goes into.

use super::Asset;
use serde_json::json;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub path: String,
    pub raw: usize,
    pub gzip9: usize,
    pub zopfli: usize,
    /// What is served: the smaller of the two.
    pub gzip: usize,
    pub method: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub hash: String,
    pub rows: Vec<Row>,
    /// Compressed bytes the first load may take ([`Report::first_load_gzip`]).
    pub budget: usize,
    /// The data partition the whole bundle goes into (`--fs-size`).
    pub partition: usize,
    /// URL paths a browser fetches on its first visit, index.html first.
    pub first_load: Vec<String>,
}

impl Report {
    pub fn new(assets: &[Asset], hash: String, budget: u64, partition: usize) -> Report {
        let rows = assets
            .iter()
            .map(|a| Row {
                path: a.path.clone(),
                raw: a.raw.len(),
                gzip9: a.compressed.gzip9_len,
                zopfli: a.compressed.zopfli_len,
                gzip: a.gzip().len(),
                method: a.compressed.method(),
            })
            .collect();
        Report { hash, rows, budget: budget as usize, partition, first_load: first_load(assets) }
    }

    pub fn total_raw(&self) -> usize {
        self.rows.iter().map(|r| r.raw).sum()
    }

    pub fn total_gzip(&self) -> usize {
        self.rows.iter().map(|r| r.gzip).sum()
    }

    pub fn first_load_gzip(&self) -> usize {
        self.rows.iter().filter(|r| self.first_load.contains(&r.path)).map(|r| r.gzip).sum()
    }

    /// Bytes of the first load over the budget, if any. Pages loaded on demand are not counted:
    /// they are what a phone waits for only when it opens them.
    pub fn over_budget(&self) -> Option<usize> {
        self.first_load_gzip().checked_sub(self.budget).filter(|&over| over > 0)
    }

    pub fn json(&self) -> String {
        let files: Vec<_> = self
            .rows
            .iter()
            .map(|r| json!({"path": r.path, "raw": r.raw, "gzip": r.gzip, "method": r.method, "gzip9": r.gzip9, "zopfli": r.zopfli}))
            .collect();
        let report = json!({
            "generated": super::GENERATED,
            "bundle_hash": self.hash,
            "files": files,
            "total": {"raw": self.total_raw(), "gzip": self.total_gzip()},
            "budget": {"counts": "first_load", "gzip": self.budget, "over_by": self.over_budget().unwrap_or(0)},
            "partition": {"size": self.partition, "bundle_gzip": self.total_gzip(), "free": self.partition.saturating_sub(self.total_gzip())},
            "first_load": {"gzip": self.first_load_gzip(), "requests": self.first_load.len(), "paths": self.first_load},
        });
        format!("{report:#}\n")
    }

    pub fn table(&self) -> String {
        let width = self.rows.iter().map(|r| r.path.len()).chain([10]).max().unwrap_or(10);
        let mut out = format!(
            "{:<width$}  {:>10}  {:>10}  {:>10}  {:>10}\n",
            "file", "raw", "gzip -9", "zopfli", "served"
        );
        for r in &self.rows {
            out.push_str(&format!(
                "{:<width$}  {:>10}  {:>10}  {:>10}  {:>10}\n",
                r.path,
                kib(r.raw),
                kib(r.gzip9),
                kib(r.zopfli),
                kib(r.gzip)
            ));
        }
        let sum = |f: fn(&Row) -> usize| self.rows.iter().map(f).sum::<usize>();
        out.push_str(&format!(
            "{:<width$}  {:>10}  {:>10}  {:>10}  {:>10}\n",
            "total",
            kib(self.total_raw()),
            kib(sum(|r| r.gzip9)),
            kib(sum(|r| r.zopfli)),
            kib(self.total_gzip())
        ));
        out.push_str(&format!(
            "first load: {} in {} requests ({})\n",
            kib(self.first_load_gzip()),
            self.first_load.len(),
            self.first_load.join(" ")
        ));
        match self.over_budget() {
            Some(over) => out.push_str(&format!(
                "budget: first load {} of {}: OVER by {}\n",
                kib(self.first_load_gzip()),
                kib(self.budget),
                kib(over)
            )),
            None => out.push_str(&format!(
                "budget: first load {} of {} ({} to spare)\n",
                kib(self.first_load_gzip()),
                kib(self.budget),
                kib(self.budget - self.first_load_gzip())
            )),
        }
        // Each file takes whole blocks and littlefs keeps some for itself: the image build says
        // when the files do not fit; this is the part of the partition they take.
        out.push_str(&format!(
            "flash: every file {} of a {} LittleFS partition ({:.0} %; --fs-size)\n",
            kib(self.total_gzip()),
            kib(self.partition),
            100.0 * self.total_gzip() as f64 / self.partition.max(1) as f64
        ));
        out
    }
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// index.html and, transitively, every file that an HTML, JS or CSS file on the way names (the
/// module script, the wasm it loads, stylesheets). Icons named only in a manifest are not counted,
/// nor a split build's chunks (`chunk-*`, xtask/src/split.rs), which the main JS names but fetches
/// only when a page needs them ([`on_demand`]).
pub fn first_load(assets: &[Asset]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut queue = vec!["/index.html".to_string()];
    while let Some(path) = queue.pop() {
        let Some(asset) = assets.iter().find(|a| a.path == path) else { continue };
        if seen.contains(&path) {
            continue;
        }
        let text_like =
            ["text/html", "text/javascript", "text/css"].iter().any(|m| asset.mime.starts_with(m));
        seen.push(path);
        if !text_like {
            continue;
        }
        let text = fetched_on_load(&String::from_utf8_lossy(&asset.raw));
        for other in assets {
            let name = other.path.rsplit('/').next().unwrap_or(&other.path);
            if !seen.contains(&other.path)
                && text.contains(name)
                && !name.starts_with(crate::split::CHUNK_PREFIX)
            {
                queue.push(other.path.clone());
            }
        }
    }
    seen
}

/// The wasm chunks of a split build: every wasm that the first load does not fetch.
pub fn on_demand(assets: &[Asset]) -> Vec<String> {
    let first = first_load(assets);
    assets
        .iter()
        .filter(|a| a.path.ends_with(".wasm") && !first.contains(&a.path))
        .map(|a| a.path.clone())
        .collect()
}

/// `text` without the links a browser follows only when the app is added to a home screen
/// (`apple-touch-icon`); the manifest is fetched on load by Chromium, so it stays.
fn fetched_on_load(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<link") {
        let end = rest[start..].find('>').map_or(rest.len(), |e| start + e + 1);
        out.push_str(&rest[..start]);
        let tag = &rest[start..end];
        if !tag.contains("apple-touch-icon") {
            out.push_str(tag);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::fake_assets;
    use super::*;

    #[test]
    fn first_load_is_index_and_what_it_names() {
        let mut first = first_load(&fake_assets());
        assert_eq!(first.remove(0), "/index.html");
        first.sort();
        assert_eq!(
            first,
            ["/main-0123456789abcdef.css", "/wsdeck-0123456789abcdef.js", "/wsdeck-0123456789abcdef_bg.wasm"]
        );
    }

    /// A split build: the main JS names its chunks, fetched only when a page needs one.
    #[test]
    fn a_split_builds_chunks_are_on_demand_not_first_load() {
        let mut files: Vec<(String, Vec<u8>)> = fake_assets().into_iter().map(|a| (a.path, a.raw)).collect();
        for (path, raw) in &mut files {
            if path.ends_with(".js") {
                raw.extend_from_slice(
                    b"fetch(new URL('./chunk-pages-0123456789abcdef.wasm', import.meta.url))",
                );
            }
        }
        files.push(("/chunk-pages-0123456789abcdef.wasm".into(), b"\0asm".to_vec()));
        files.sort();
        let assets = super::super::assets(files, 1);
        let first = first_load(&assets);
        assert_eq!(first.len(), 4, "{first:?}");
        assert!(!first.contains(&"/chunk-pages-0123456789abcdef.wasm".to_string()), "{first:?}");
        assert_eq!(on_demand(&assets), ["/chunk-pages-0123456789abcdef.wasm"]);
    }

    #[test]
    fn home_screen_icons_are_not_first_load() {
        let html = r#"<link href=a.png rel=apple-touch-icon><link href=m.webmanifest rel=manifest><p>x"#;
        assert_eq!(fetched_on_load(html), "<link href=m.webmanifest rel=manifest><p>x");
        assert_eq!(fetched_on_load("<link rel=apple-touch-icon href=a.png"), "");
    }

    #[test]
    fn over_budget_says_by_how_much() {
        let assets = fake_assets();
        let total: usize = assets.iter().map(|a| a.gzip().len()).sum();
        let first = Report::new(&assets, "h".into(), 0, 1 << 20).first_load_gzip();
        assert!(first < total, "icons are in the bundle, not the first load");
        let fits = Report::new(&assets, "h".into(), first as u64, 1 << 20);
        assert_eq!(fits.over_budget(), None);
        assert!(fits.table().contains("to spare"));
        let over = Report::new(&assets, "h".into(), first as u64 - 100, 1 << 20);
        assert_eq!(over.over_budget(), Some(100));
        assert!(over.table().contains("first load ") && over.table().contains("OVER by 0.1 KiB"));
        assert!(over.table().contains("of a 1024.0 KiB LittleFS partition"));
    }

    #[test]
    fn json_has_every_file_totals_and_first_load() {
        let assets = fake_assets();
        let r = Report::new(&assets, "abc".into(), 150 * 1024, 1 << 20);
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["files"].as_array().unwrap().len(), assets.len());
        assert_eq!(v["total"]["gzip"], r.total_gzip());
        assert_eq!(v["first_load"]["requests"], 4);
        assert_eq!(v["budget"]["gzip"], 150 * 1024);
        assert_eq!(v["budget"]["counts"], "first_load");
        assert_eq!(v["partition"]["size"], 1 << 20);
        assert_eq!(v["partition"]["free"], (1 << 20) - r.total_gzip());
        assert_eq!(v["bundle_hash"], "abc");
        assert_eq!(v["generated"], "generated by cargo xtask dist, do not edit");
        let table = r.table();
        assert!(table.lines().any(|l| l.starts_with("total")));
        assert!(table.contains("first load: "));
    }
}
