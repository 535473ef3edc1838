//! `wsdeck.littlefs`: the `.gz` files in a LittleFS image to flash into a data partition. Built by
//! the `xtask-littlefs` program (xtask/littlefs), which links littlefs' C core; it reads the image
//! back and compares every file before it writes it.

use super::{Asset, Options, LITTLEFS_IMAGE};
use crate::tools;
use crate::util::{cmd, run};

/// `PATH=FILE` arguments: each `.gz` file under its URL path plus `.gz`, as web servers that
/// look for a `.gz` beside the requested file (ESPAsyncWebServer's `serveStatic`) expect.
pub fn file_args(assets: &[Asset], opts: &Options) -> Vec<String> {
    assets.iter().map(|a| format!("/{}={}", a.gz_name(), opts.out.join(a.gz_name()).display())).collect()
}

pub fn build(assets: &[Asset], opts: &Options) -> Result<(), String> {
    tools::ensure_libclang()?;
    let image = opts.out.join(LITTLEFS_IMAGE);
    run(cmd("cargo")
        .args(["run", "--quiet", "--package", "xtask-littlefs", "--"])
        .arg(opts.block_size.to_string())
        .arg(opts.fs_size.to_string())
        .arg(&image)
        .args(file_args(assets, opts)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::fake_assets;
    use super::*;

    #[test]
    fn files_go_into_the_image_under_their_url_with_gz() {
        let opts = Options { out: "/tmp/flash".into(), ..Options::default() };
        let args = file_args(&fake_assets(), &opts);
        assert!(args.contains(&"/index.html.gz=/tmp/flash/index.html.gz".to_string()));
        assert!(args.contains(&"/icons/icon-192.png.gz=/tmp/flash/icons/icon-192.png.gz".to_string()));
    }
}
