//! The built app held in memory exactly as firmware holds it: gzip bodies with their MIME type,
//! ETag and cache policy, looked up by path. The rules are wsdeck-serving's (serving/), which
//! `cargo xtask dist` also writes into the firmware bundle's route table.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use wsdeck_serving::{cache_control_for, csp_for, etag_for, mime_for};

pub struct Asset {
    pub mime: &'static str,
    /// gzip-compressed body, sent with `Content-Encoding: gzip` to every client.
    pub gzip: Vec<u8>,
    pub raw_len: usize,
    /// Strong ETag from a hash of the uncompressed content, quotes included.
    pub etag: String,
    pub cache_control: &'static str,
    /// For the app's HTML pages: the Content-Security-Policy sent with them.
    pub csp: Option<String>,
}

#[derive(Default)]
pub struct Assets {
    by_path: HashMap<String, Asset>,
}

impl Assets {
    /// Loads every file below `dir`. A missing directory gives an empty set (the simulator still
    /// speaks WebSocket and explains on `/` how to build the app).
    pub fn load(dir: &Path) -> std::io::Result<Assets> {
        let mut assets = Assets::default();
        if !dir.is_dir() {
            return Ok(assets);
        }
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        for file in files {
            let rel = file.strip_prefix(dir).unwrap_or(&file);
            let url = format!("/{}", rel.to_string_lossy().replace('\\', "/"));
            let raw = std::fs::read(&file)?;
            assets.insert(&url, &raw);
        }
        Ok(assets)
    }

    pub fn insert(&mut self, url: &str, raw: &[u8]) {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        let _ = gz.write_all(raw);
        let gzip = gz.finish().unwrap_or_default();
        let asset = Asset {
            mime: mime_for(url),
            gzip,
            raw_len: raw.len(),
            etag: etag_for(raw),
            cache_control: cache_control_for(url),
            csp: mime_for(url).starts_with("text/html").then(|| csp_for(&String::from_utf8_lossy(raw))),
        };
        self.by_path.insert(url.to_string(), asset);
    }

    /// `/` is `index.html`; query strings are ignored.
    pub fn get(&self, path: &str) -> Option<&Asset> {
        let path = path.split(['?', '#']).next().unwrap_or("/");
        let path = if path.ends_with('/') { format!("{path}index.html") } else { path.to_string() };
        self.by_path.get(&path)
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }

    pub fn gzip_total(&self) -> usize {
        self.by_path.values().map(|a| a.gzip.len()).sum()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn bodies_gunzip_to_the_original_and_root_is_index() {
        let mut assets = Assets::default();
        assets.insert("/index.html", b"<!doctype html><title>x</title>");
        let a = assets.get("/?ws=ws://127.0.0.1:1/ws").expect("/ maps to index.html");
        let mut raw = Vec::new();
        GzDecoder::new(&a.gzip[..]).read_to_end(&mut raw).unwrap();
        assert_eq!(raw, b"<!doctype html><title>x</title>");
        assert_eq!(a.raw_len, raw.len());
        assert!(a.etag.starts_with('"') && a.etag.len() == 18);
        assert!(assets.get("/nope.js").is_none());
    }

    #[test]
    fn only_html_pages_get_a_policy() {
        let mut a = Assets::default();
        a.insert("/index.html", b"<script>1</script>");
        a.insert("/app.js", b"1");
        assert!(a.get("/").and_then(|x| x.csp.as_ref()).is_some());
        assert!(a.get("/app.js").unwrap().csp.is_none());
    }
}
