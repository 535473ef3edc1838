//! The built app held in memory exactly as firmware holds it: gzip bodies with their MIME type,
//! ETag and cache policy, looked up by path. `mime_for`, `cache_control_for` and `etag_for` are
//! also what `cargo xtask dist` writes into the firmware bundle's route table.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

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

pub fn mime_for(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Trunk names built assets `name-<hex hash>.ext` (up to 16 digits): their content never changes under that
/// name, so browsers may keep them forever. Everything else, `index.html` first, is revalidated.
pub fn cache_control_for(path: &str) -> &'static str {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let hashed = stem
        .rsplit_once('-')
        .is_some_and(|(_, h)| (8..=16).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()));
    if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// The strong ETag of a file's uncompressed content, quotes included: `"0123456789abcdef"`.
pub fn etag_for(raw: &[u8]) -> String {
    format!("\"{:016x}\"", fnv1a64(raw))
}

/// The Content-Security-Policy for one of the app's HTML pages. Scripts come only from the device
/// itself, plus the page's own inline scripts by their hash (Trunk's bootstrap), so an injected
/// script cannot run; `'wasm-unsafe-eval'` lets the page compile its WebAssembly; styles only from
/// files; connections to the device and to any WebSocket (the app may be pointed at another
/// device, whose own Origin check decides); no plugins, no framing, no `<base>`.
pub fn csp_for(html: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let hash = |s: &str| {
        let digest = Sha256::digest(s.as_bytes());
        format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
    };
    let hashes: String = inline(html, "script").into_iter().map(hash).collect();
    let styles: String = inline(html, "style").into_iter().map(hash).collect();
    format!(
        "default-src 'self'; script-src 'self'{hashes} 'wasm-unsafe-eval'; style-src 'self'{styles}; \
         img-src 'self' data: blob:; connect-src 'self' ws: wss: http: https:; manifest-src 'self'; worker-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The text of every `<tag>` element in `html` that has no `src` (inline scripts, `<style>`),
/// exactly as the browser hashes it.
fn inline<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let lower = html.to_ascii_lowercase();
    let (open_tag, close_tag) = (format!("<{tag}"), format!("</{tag}"));
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = lower[at..].find(&open_tag).map(|i| at + i) {
        let Some(tag_end) = lower[open..].find('>').map(|i| open + i + 1) else { break };
        let Some(close) = lower[tag_end..].find(&close_tag).map(|i| tag_end + i) else { break };
        let tag = &lower[open..tag_end];
        if !tag.contains(" src=") && !tag.contains("\tsrc=") && !tag.contains("\nsrc=") {
            out.push(&html[tag_end..close]);
        }
        at = close;
    }
    out
}

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn wasm_is_served_as_application_wasm() {
        assert_eq!(mime_for("/wsdeck-0123456789abcdef_bg.wasm"), "application/wasm");
        assert_eq!(mime_for("/index.html"), "text/html; charset=utf-8");
        assert_eq!(mime_for("/x.webmanifest"), "application/manifest+json");
        assert_eq!(mime_for("/LICENSE"), "application/octet-stream");
    }

    #[test]
    fn only_hashed_assets_are_immutable() {
        assert_eq!(cache_control_for("/index.html"), "no-cache");
        assert_eq!(cache_control_for("/wsdeck-0123456789abcdef.js"), "public, max-age=31536000, immutable");
        assert_eq!(
            cache_control_for("/wsdeck-0123456789abcdef_bg.wasm"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_control_for("/main-754632b354917b3.css"), "public, max-age=31536000, immutable");
        assert_eq!(cache_control_for("/main-9f.css"), "no-cache");
        assert_eq!(cache_control_for("/icon.svg"), "no-cache");
    }

    #[test]
    fn the_service_worker_manifest_and_icons_are_revalidated_with_their_types() {
        // A cached sw.js would hide new builds from the browser's update check.
        for path in ["/sw.js", "/manifest.webmanifest", "/icon-192.png", "/icon.svg"] {
            assert_eq!(cache_control_for(path), "no-cache", "{path}");
        }
        assert_eq!(mime_for("/sw.js"), "text/javascript; charset=utf-8");
        assert_eq!(mime_for("/manifest.webmanifest"), "application/manifest+json");
        assert_eq!(mime_for("/icon-maskable.png"), "image/png");
        assert_eq!(mime_for("/icon.svg"), "image/svg+xml");
    }

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
    fn the_policy_allows_the_pages_own_inline_script_by_hash_and_nothing_inline_else() {
        let html =
            "<html><script type=module>boot()</script><script src=/a.js></script><SCRIPT>x</SCRIPT></html>";
        assert_eq!(inline(html, "script"), ["boot()", "x"]);
        let csp = csp_for(html);
        // sha256("boot()") in base64, as a browser computes it.
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let want = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"boot()"));
        assert!(csp.contains(&format!("'sha256-{want}'")), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
        let styled = csp_for("<style>a{b:c}</style><script>x</script>");
        assert!(styled.contains("style-src 'self' 'sha256-"), "an inline stylesheet by its hash: {styled}");
        assert_eq!(inline("<script>unterminated", "script"), Vec::<&str>::new());
    }

    #[test]
    fn only_html_pages_get_a_policy() {
        let mut a = Assets::default();
        a.insert("/index.html", b"<script>1</script>");
        a.insert("/app.js", b"1");
        assert!(a.get("/").and_then(|x| x.csp.as_ref()).is_some());
        assert!(a.get("/app.js").unwrap().csp.is_none());
    }

    #[test]
    fn etag_changes_with_content() {
        assert_ne!(fnv1a64(b"a"), fnv1a64(b"b"));
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    }
}
