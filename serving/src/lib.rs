//! How a wsdeck device serves the built app: each file's MIME type, ETag and cache policy, and the
//! Content-Security-Policy of its HTML pages. The simulator serves by these rules and `cargo xtask
//! dist` writes them into the firmware bundle's route table, so the two cannot differ.

/// The `Content-Type` of a file, by its extension.
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
/// files; connections to the device, to any WebSocket (the app may be pointed at another device,
/// whose own Origin check decides) and to any HTTP host (after a WebSocket failed to open, the app
/// asks its host why: src/connection/probe.rs); no plugins, no framing, no `<base>`.
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
         img-src 'self' data: blob:; connect-src 'self' ws: wss: http: https:; manifest-src 'self'; \
         worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
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

/// FNV-1a, 64 bits: the hash behind ETags and build versions (not for security).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_policy_allows_the_pages_own_inline_script_by_hash_and_nothing_inline_else() {
        let html =
            "<html><script type=module>boot()</script><script src=/a.js></script><SCRIPT>x</SCRIPT></html>";
        assert_eq!(inline(html, "script"), ["boot()", "x"]);
        let csp = csp_for(html);
        // sha256("boot()") in base64, as a browser computes it (`printf 'boot()' | sha256sum`).
        assert!(csp.contains("'sha256-MeZS89WlF0u+o0hCvHTBt4q1WHU+U+sJKgbdRUc36mY='"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"));
        let styled = csp_for("<style>a{b:c}</style><script>x</script>");
        assert!(styled.contains("style-src 'self' 'sha256-"), "an inline stylesheet by its hash: {styled}");
        assert_eq!(inline("<script>unterminated", "script"), Vec::<&str>::new());
    }

    #[test]
    fn etags_are_quoted_and_change_with_content() {
        assert_ne!(fnv1a64(b"a"), fnv1a64(b"b"));
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(etag_for(b""), "\"cbf29ce484222325\"");
    }
}
