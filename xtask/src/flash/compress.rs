//! gzip bodies for the device: the smaller of flate2's gzip -9 and zopfli, both plain gzip that
//! every browser accepts with `Content-Encoding: gzip`.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::num::NonZeroU64;

/// zopfli passes. Measured on the 463 KB release wasm (zopfli built optimised, see Cargo.toml):
/// gzip -9 198 433 B in 0.2 s; zopfli 1 pass 189 071 B in 1.0 s, 5 passes 188 719 B in 1.4 s,
/// 15 (zopfli's default) 188 624 B in 2.8 s. Past 5 each second buys under 100 bytes.
pub const ZOPFLI_ITERATIONS: u64 = 5;

/// One file compressed both ways; `gzip` is the smaller result, the one that is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub gzip: Vec<u8>,
    pub gzip9_len: usize,
    pub zopfli_len: usize,
}

impl Compressed {
    pub fn method(&self) -> &'static str {
        if self.zopfli_len < self.gzip9_len {
            "zopfli"
        } else {
            "gzip -9"
        }
    }
}

pub fn gzip9(raw: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(raw);
    gz.finish().unwrap_or_default()
}

pub fn zopfli(raw: &[u8], iterations: u64) -> Vec<u8> {
    let options = zopfli::Options {
        iteration_count: NonZeroU64::new(iterations.max(1)).unwrap_or(NonZeroU64::MIN),
        ..zopfli::Options::default()
    };
    let mut out = Vec::new();
    // Into a Vec from a slice: cannot fail.
    let _ = zopfli::compress(options, zopfli::Format::Gzip, raw, &mut out);
    out
}

pub fn smallest(raw: &[u8], iterations: u64) -> Compressed {
    let (g, z) = (gzip9(raw), zopfli(raw, iterations));
    let (gzip9_len, zopfli_len) = (g.len(), z.len());
    Compressed { gzip: if z.len() < g.len() { z } else { g }, gzip9_len, zopfli_len }
}

/// Every file compressed, the files spread over the machine's cores (the wasm dominates).
pub fn all(raws: &[&[u8]], iterations: u64) -> Vec<Compressed> {
    std::thread::scope(|s| {
        let handles: Vec<_> = raws.iter().map(|raw| s.spawn(move || smallest(raw, iterations))).collect();
        handles.into_iter().map(|h| h.join().expect("compression does not panic")).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut raw = Vec::new();
        GzDecoder::new(gz).read_to_end(&mut raw).unwrap();
        raw
    }

    #[test]
    fn both_methods_are_gzip_that_gunzips_to_the_original() {
        let raw = b"<!doctype html><title>wsdeck</title>".repeat(50);
        assert_eq!(gunzip(&gzip9(&raw)), raw);
        assert_eq!(gunzip(&zopfli(&raw, 3)), raw);
    }

    #[test]
    fn the_smaller_one_is_served_and_both_sizes_are_kept() {
        let raw = b"fn main() { println!(\"hello\"); }\n".repeat(200);
        let c = smallest(&raw, 5);
        assert_eq!(c.gzip.len(), c.gzip9_len.min(c.zopfli_len));
        assert_eq!(gunzip(&c.gzip), raw);
        assert_eq!(all(&[&raw[..], b""], 5)[0], c);
    }

    #[test]
    fn output_is_reproducible() {
        let raw = b"same bytes, same gzip".repeat(10);
        assert_eq!(smallest(&raw, 2), smallest(&raw, 2));
    }
}
