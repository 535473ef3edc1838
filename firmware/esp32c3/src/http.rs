//! How the app's files are answered, as the simulator answers them (sim/src/routes.rs): gzip
//! bodies with `Content-Encoding: gzip`, the ETag with `304 Not Modified` for a matching
//! `If-None-Match`, the route table's cache policy and CSP, HEAD without a body, nothing but GET
//! and HEAD. The files come from the flash bundle's Rust module (`cargo xtask dist`).

/// One file of the app, as the bundle's route table describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct File {
    pub path: &'static str,
    pub mime: &'static str,
    pub gzip: &'static [u8],
    /// Quoted strong ETag.
    pub etag: &'static str,
    pub cache_control: &'static str,
    /// HTML pages only.
    pub csp: Option<&'static str>,
}

/// What to answer one request for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 with the gzip body; `body` is false for HEAD (same headers, no body).
    File {
        file: File,
        body: bool,
    },
    /// 304: the browser's copy is current.
    NotModified(File),
    NotFound,
    /// 405 with `Allow: GET, HEAD`.
    MethodNotAllowed,
}

/// The answer to `method path` given the request's `If-None-Match`; `find` looks a path up in
/// the route table (`/` and a query string included).
pub fn answer(
    method: &str,
    path: &str,
    if_none_match: Option<&str>,
    find: impl Fn(&str) -> Option<File>,
) -> Answer {
    let head = method.eq_ignore_ascii_case("HEAD");
    if !head && !method.eq_ignore_ascii_case("GET") {
        return Answer::MethodNotAllowed;
    }
    let Some(file) = find(path) else { return Answer::NotFound };
    let fresh =
        if_none_match.is_some_and(|tags| tags.split(',').any(|t| t.trim() == file.etag || t.trim() == "*"));
    if fresh {
        Answer::NotModified(file)
    } else {
        Answer::File { file, body: !head }
    }
}

/// The headers every answer with a file carries besides Content-Type and Content-Length.
pub fn file_headers(file: &File, with_encoding: bool) -> heapless::Vec<(&'static str, &'static str), 5> {
    let mut h = heapless::Vec::new();
    if with_encoding {
        let _ = h.push(("Content-Encoding", "gzip"));
    }
    let _ = h.push(("ETag", file.etag));
    let _ = h.push(("Cache-Control", file.cache_control));
    if let Some(csp) = file.csp {
        let _ = h.push(("Content-Security-Policy", csp));
    }
    let _ = h.push(("X-Content-Type-Options", "nosniff"));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: File = File {
        path: "/index.html",
        mime: "text/html; charset=utf-8",
        gzip: &[0x1f, 0x8b, 8],
        etag: "\"00000000000000aa\"",
        cache_control: "no-cache",
        csp: Some("default-src 'self'"),
    };
    const WASM: File = File {
        path: "/wsdeck-0123456789abcdef_bg.wasm",
        mime: "application/wasm",
        gzip: &[0x1f, 0x8b, 8, 0],
        etag: "\"00000000000000bb\"",
        cache_control: "public, max-age=31536000, immutable",
        csp: None,
    };

    fn find(path: &str) -> Option<File> {
        let path = path.split('?').next().unwrap_or("");
        [INDEX, WASM].into_iter().find(|f| f.path == path || (path == "/" && f.path == "/index.html"))
    }

    #[test]
    fn files_are_served_gzip_with_their_policy() {
        assert_eq!(
            answer("GET", "/?ws=ws://10.0.0.7/ws", None, find),
            Answer::File { file: INDEX, body: true }
        );
        let h = file_headers(&INDEX, true);
        assert_eq!(h[0], ("Content-Encoding", "gzip"));
        assert!(h.contains(&("Content-Security-Policy", "default-src 'self'")));
        assert!(h.contains(&("Cache-Control", "no-cache")));
        let h = file_headers(&WASM, true);
        assert!(h.contains(&("Cache-Control", "public, max-age=31536000, immutable")));
        assert!(!h.iter().any(|(k, _)| *k == "Content-Security-Policy"), "CSP on HTML pages only");
    }

    #[test]
    fn a_current_copy_gets_304_and_head_gets_no_body() {
        assert_eq!(
            answer("GET", WASM.path, Some("\"x\", \"00000000000000bb\""), find),
            Answer::NotModified(WASM)
        );
        assert_eq!(answer("GET", WASM.path, Some("*"), find), Answer::NotModified(WASM));
        assert_eq!(
            answer("GET", WASM.path, Some("\"00000000000000aa\""), find),
            Answer::File { file: WASM, body: true }
        );
        assert_eq!(answer("HEAD", "/", None, find), Answer::File { file: INDEX, body: false });
    }

    #[test]
    fn other_methods_and_paths_are_refused() {
        assert_eq!(answer("POST", "/", None, find), Answer::MethodNotAllowed);
        assert_eq!(answer("GET", "/missing.js", None, find), Answer::NotFound);
    }
}
