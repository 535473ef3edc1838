//! Packs files into a LittleFS image that an ESP32 (or ESP8266) LittleFS partition can mount, and
//! reads an image back. `cargo xtask dist` runs it as a separate program because littlefs' C core
//! is bound with bindgen, which needs libclang: xtask itself must build without it.
//!
//! It drives littlefs' C API (`littlefs2::ll`) directly because littlefs2's safe API fixes the
//! block size and block count at compile time, and both are flags here.

use littlefs2::ll;
use std::ffi::{c_int, c_void, CStr, CString};

/// Longest file name in the image. esp_littlefs (ESP-IDF, Arduino-ESP32) mounts names up to 64
/// bytes (`CONFIG_LITTLEFS_OBJ_NAME_LEN`); an image that says more does not mount there.
pub const NAME_MAX: usize = 64;
/// Read, program and cache granularity, as mklittlefs uses for ESP32 images (`-p 256`).
const PAGE: u32 = 256;
/// littlefs' on-disk version 2.0: mountable by every littlefs 2.x, including older ESP cores.
const DISK_VERSION: u32 = 0x0002_0000;

/// One file: its path in the image (`/index.html.gz`) and its bytes.
pub type File = (String, Vec<u8>);

/// The image and the littlefs state that works on it. Boxed so that the pointers littlefs keeps
/// (context, buffers) stay valid.
struct Fs {
    image: Vec<u8>,
    read_buf: Vec<u8>,
    prog_buf: Vec<u8>,
    lookahead_buf: Vec<u8>,
    file_buf: Vec<u8>,
    config: ll::lfs_config,
    lfs: ll::lfs_t,
}

impl Fs {
    fn new(image: Vec<u8>, block_size: usize) -> Result<Box<Fs>, String> {
        if block_size < 128 || !block_size.is_multiple_of(PAGE as usize) {
            return Err(format!("block size {block_size} must be a multiple of {PAGE}"));
        }
        if !image.len().is_multiple_of(block_size) || image.len() / block_size < 2 {
            return Err(format!(
                "file system size {} must be a multiple of the block size {block_size}, at least 2 blocks",
                image.len()
            ));
        }
        let block_count = (image.len() / block_size) as u32;
        // SAFETY: lfs_t and lfs_config are plain C structs of integers and pointers, for which
        // all zeroes is a valid value (and littlefs' "use the default" for the *_max fields).
        let (config, lfs) = unsafe { (std::mem::zeroed::<ll::lfs_config>(), std::mem::zeroed()) };
        let mut fs = Box::new(Fs {
            image,
            read_buf: vec![0; PAGE as usize],
            prog_buf: vec![0; PAGE as usize],
            lookahead_buf: vec![0; 32],
            file_buf: vec![0; PAGE as usize],
            config,
            lfs,
        });
        fs.config = ll::lfs_config {
            context: &mut fs.image as *mut Vec<u8> as *mut c_void,
            read: Some(read),
            prog: Some(prog),
            erase: Some(erase),
            sync: Some(sync),
            read_size: PAGE,
            prog_size: PAGE,
            block_size: block_size as u32,
            block_count,
            block_cycles: 500,
            cache_size: PAGE,
            lookahead_size: fs.lookahead_buf.len() as u32,
            read_buffer: fs.read_buf.as_mut_ptr().cast(),
            prog_buffer: fs.prog_buf.as_mut_ptr().cast(),
            lookahead_buffer: fs.lookahead_buf.as_mut_ptr().cast(),
            name_max: NAME_MAX as u32,
            disk_version: DISK_VERSION,
            ..fs.config
        };
        Ok(fs)
    }

    fn check(what: &str, code: c_int) -> Result<c_int, String> {
        if code < 0 {
            Err(format!("littlefs: {what} failed ({})", describe(code)))
        } else {
            Ok(code)
        }
    }

    fn format(&mut self) -> Result<(), String> {
        Fs::check("format", unsafe { ll::lfs_format(&mut self.lfs, &self.config) }).map(drop)
    }

    fn mount(&mut self) -> Result<(), String> {
        Fs::check("mount", unsafe { ll::lfs_mount(&mut self.lfs, &self.config) }).map(drop)
    }

    fn unmount(&mut self) -> Result<(), String> {
        Fs::check("unmount", unsafe { ll::lfs_unmount(&mut self.lfs) }).map(drop)
    }

    fn mkdir_all(&mut self, path: &str) -> Result<(), String> {
        let mut at = 0;
        while let Some(i) = path[at + 1..].find('/') {
            at += 1 + i;
            let dir = c_path(&path[..at])?;
            let code = unsafe { ll::lfs_mkdir(&mut self.lfs, dir.as_ptr()) };
            if code != ll::lfs_error_LFS_ERR_EXIST {
                Fs::check(&format!("mkdir {}", &path[..at]), code)?;
            }
        }
        Ok(())
    }

    fn write_file(&mut self, path: &str, data: &[u8]) -> Result<(), String> {
        self.mkdir_all(path)?;
        let name = c_path(path)?;
        let flags =
            ll::lfs_open_flags_LFS_O_WRONLY | ll::lfs_open_flags_LFS_O_CREAT | ll::lfs_open_flags_LFS_O_TRUNC;
        let file_config = ll::lfs_file_config {
            buffer: self.file_buf.as_mut_ptr().cast(),
            attrs: std::ptr::null_mut(),
            attr_count: 0,
        };
        // SAFETY: zeroed is a valid closed lfs_file_t; every pointer handed over outlives the file.
        let mut file: ll::lfs_file_t = unsafe { std::mem::zeroed() };
        let lfs = &mut self.lfs;
        Fs::check(&format!("open {path}"), unsafe {
            ll::lfs_file_opencfg(lfs, &mut file, name.as_ptr(), flags as c_int, &file_config)
        })?;
        let written = unsafe { ll::lfs_file_write(lfs, &mut file, data.as_ptr().cast(), data.len() as u32) };
        let closed = unsafe { ll::lfs_file_close(lfs, &mut file) };
        let written = Fs::check(&format!("write {path}"), written)?;
        Fs::check(&format!("close {path}"), closed)?;
        if written as usize != data.len() {
            return Err(format!("littlefs: wrote {written} of {} bytes of {path}", data.len()));
        }
        Ok(())
    }

    fn read_file(&mut self, path: &str, len: usize) -> Result<Vec<u8>, String> {
        let name = c_path(path)?;
        let file_config = ll::lfs_file_config {
            buffer: self.file_buf.as_mut_ptr().cast(),
            attrs: std::ptr::null_mut(),
            attr_count: 0,
        };
        let mut file: ll::lfs_file_t = unsafe { std::mem::zeroed() };
        let lfs = &mut self.lfs;
        let flags = ll::lfs_open_flags_LFS_O_RDONLY as c_int;
        Fs::check(&format!("open {path}"), unsafe {
            ll::lfs_file_opencfg(lfs, &mut file, name.as_ptr(), flags, &file_config)
        })?;
        let mut data = vec![0u8; len];
        let read = unsafe { ll::lfs_file_read(lfs, &mut file, data.as_mut_ptr().cast(), len as u32) };
        let closed = unsafe { ll::lfs_file_close(lfs, &mut file) };
        data.truncate(Fs::check(&format!("read {path}"), read)? as usize);
        Fs::check(&format!("close {path}"), closed)?;
        Ok(data)
    }

    /// `(path, size)` of every file below `dir` ("/" for all).
    fn list(&mut self, dir: &str, out: &mut Vec<(String, usize)>) -> Result<(), String> {
        let name = c_path(dir)?;
        let mut handle: ll::lfs_dir_t = unsafe { std::mem::zeroed() };
        let lfs = &mut self.lfs;
        Fs::check(&format!("open dir {dir}"), unsafe { ll::lfs_dir_open(lfs, &mut handle, name.as_ptr()) })?;
        let mut entries = Vec::new();
        let mut failed = None;
        loop {
            let mut info: ll::lfs_info = unsafe { std::mem::zeroed() };
            match unsafe { ll::lfs_dir_read(lfs, &mut handle, &mut info) } {
                0 => break,
                code if code < 0 => {
                    failed = Some(code);
                    break;
                }
                _ => {
                    let entry = unsafe { CStr::from_ptr(info.name.as_ptr()) }.to_string_lossy().into_owned();
                    if entry != "." && entry != ".." {
                        entries.push((entry, u32::from(info.type_), info.size as usize));
                    }
                }
            }
        }
        Fs::check(&format!("close dir {dir}"), unsafe { ll::lfs_dir_close(lfs, &mut handle) })?;
        if let Some(code) = failed {
            Fs::check(&format!("read dir {dir}"), code)?;
        }
        for (entry, kind, size) in entries {
            let path = format!("{}/{entry}", dir.trim_end_matches('/'));
            if kind == ll::lfs_type_LFS_TYPE_DIR {
                self.list(&path, out)?;
            } else {
                out.push((path, size));
            }
        }
        Ok(())
    }
}

fn c_path(path: &str) -> Result<CString, String> {
    if let Some(long) = path.split('/').find(|part| part.len() > NAME_MAX) {
        return Err(format!(
            "`{long}` is longer than {NAME_MAX} bytes, the longest name ESP32 LittleFS mounts"
        ));
    }
    CString::new(path).map_err(|_| format!("`{path}` contains a NUL byte"))
}

fn describe(code: c_int) -> String {
    let what = match code {
        ll::lfs_error_LFS_ERR_NOSPC => "no space left: raise --fs-size or shrink the app",
        ll::lfs_error_LFS_ERR_CORRUPT => "corrupt image",
        ll::lfs_error_LFS_ERR_NOENT => "no such file",
        ll::lfs_error_LFS_ERR_NAMETOOLONG => "name too long",
        ll::lfs_error_LFS_ERR_INVAL => "invalid parameter",
        ll::lfs_error_LFS_ERR_IO => "I/O error",
        _ => "error",
    };
    format!("{what}, code {code}")
}

/// The byte range of `size` bytes at `block`/`off` in the image, if it is inside.
unsafe fn range(
    c: *const ll::lfs_config,
    block: u32,
    off: u32,
    size: usize,
) -> Option<(&'static mut Vec<u8>, usize)> {
    let c = &*c;
    let image = &mut *(c.context as *mut Vec<u8>);
    let start = block as usize * c.block_size as usize + off as usize;
    (start + size <= image.len()).then_some((image, start))
}

unsafe extern "C" fn read(
    c: *const ll::lfs_config,
    block: u32,
    off: u32,
    buf: *mut c_void,
    size: u32,
) -> c_int {
    match range(c, block, off, size as usize) {
        Some((image, start)) => {
            std::ptr::copy_nonoverlapping(image[start..].as_ptr(), buf.cast::<u8>(), size as usize);
            0
        }
        None => ll::lfs_error_LFS_ERR_IO,
    }
}

unsafe extern "C" fn prog(
    c: *const ll::lfs_config,
    block: u32,
    off: u32,
    buf: *const c_void,
    size: u32,
) -> c_int {
    match range(c, block, off, size as usize) {
        Some((image, start)) => {
            std::ptr::copy_nonoverlapping(buf.cast::<u8>(), image[start..].as_mut_ptr(), size as usize);
            0
        }
        None => ll::lfs_error_LFS_ERR_IO,
    }
}

unsafe extern "C" fn erase(c: *const ll::lfs_config, block: u32) -> c_int {
    let size = (*c).block_size as usize;
    match range(c, block, 0, size) {
        Some((image, start)) => {
            image[start..start + size].fill(0xff);
            0
        }
        None => ll::lfs_error_LFS_ERR_IO,
    }
}

unsafe extern "C" fn sync(_: *const ll::lfs_config) -> c_int {
    0
}

/// A formatted image of `fs_size` bytes (erased flash reads 0xff) holding `files`, read back
/// and compared before it is returned.
pub fn pack(files: &[File], block_size: usize, fs_size: usize) -> Result<Vec<u8>, String> {
    let mut fs = Fs::new(vec![0xff; fs_size], block_size)?;
    fs.format()?;
    fs.mount()?;
    for (path, data) in files {
        if !path.starts_with('/') {
            return Err(format!("`{path}` must start with /"));
        }
        fs.write_file(path, data)?;
    }
    fs.unmount()?;
    let image = std::mem::take(&mut fs.image);
    let mut expected = files.to_vec();
    expected.sort();
    if unpack(&image, block_size)? != expected {
        return Err("littlefs: the image does not read back as written".into());
    }
    Ok(image)
}

/// Every file in `image`, sorted by path.
pub fn unpack(image: &[u8], block_size: usize) -> Result<Vec<File>, String> {
    let mut fs = Fs::new(image.to_vec(), block_size)?;
    fs.mount()?;
    let mut listing = Vec::new();
    let listed = fs.list("/", &mut listing);
    let mut files = Vec::new();
    if listed.is_ok() {
        for (path, size) in listing {
            let data = fs.read_file(&path, size)?;
            files.push((path, data));
        }
    }
    fs.unmount()?;
    listed?;
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<File> {
        // Incompressible-ish content larger than a block, a small file (inlined by littlefs) and
        // one in a subdirectory.
        let mut x = 1u32;
        let big: Vec<u8> = (0..20_000)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 24) as u8
            })
            .collect();
        vec![
            ("/index.html.gz".into(), b"<!doctype html>".to_vec()),
            ("/wsdeck-0123456789abcdef_bg.wasm.gz".into(), big),
            ("/icons/a.png.gz".into(), vec![7; 5000]),
        ]
    }

    #[test]
    fn what_is_packed_reads_back_byte_identical() {
        let image = pack(&files(), 4096, 1 << 20).unwrap();
        assert_eq!(image.len(), 1 << 20);
        let mut want = files();
        want.sort();
        assert_eq!(unpack(&image, 4096).unwrap(), want);
    }

    /// littlefs2's own safe API, with its own configuration (as a device has its own), mounts
    /// the image and reads every file.
    #[test]
    fn littlefs2_mounts_the_image_with_its_own_configuration() {
        use littlefs2::fs::Filesystem;
        use littlefs2::path::PathBuf;

        struct Flash(Vec<u8>);
        impl littlefs2::driver::Storage for Flash {
            const READ_SIZE: usize = 128;
            const WRITE_SIZE: usize = 128;
            const BLOCK_SIZE: usize = 4096;
            const BLOCK_COUNT: usize = 256;
            type CACHE_SIZE = littlefs2::consts::U512;
            type LOOKAHEAD_SIZE = littlefs2::consts::U16;
            fn read(&mut self, off: usize, buf: &mut [u8]) -> littlefs2::io::Result<usize> {
                buf.copy_from_slice(&self.0[off..off + buf.len()]);
                Ok(buf.len())
            }
            fn write(&mut self, off: usize, data: &[u8]) -> littlefs2::io::Result<usize> {
                self.0[off..off + data.len()].copy_from_slice(data);
                Ok(data.len())
            }
            fn erase(&mut self, off: usize, len: usize) -> littlefs2::io::Result<usize> {
                self.0[off..off + len].fill(0xff);
                Ok(len)
            }
        }

        let mut flash = Flash(pack(&files(), 4096, 256 * 4096).unwrap());
        let mut alloc = Filesystem::allocate();
        let fs = Filesystem::mount(&mut alloc, &mut flash).expect("littlefs2 mounts the image");
        for (path, data) in files() {
            let path = PathBuf::try_from(path.as_str()).unwrap();
            let content = fs
                .open_file_and_then(&path, |file| {
                    let (mut content, mut chunk) = (Vec::new(), [0u8; 1000]);
                    loop {
                        match file.read(&mut chunk)? {
                            0 => return Ok(content),
                            n => content.extend_from_slice(&chunk[..n]),
                        }
                    }
                })
                .unwrap();
            assert_eq!(content, data, "{path}");
        }
    }

    #[test]
    fn too_small_a_partition_is_an_error_that_says_so() {
        let e = pack(&files(), 4096, 4 * 4096).unwrap_err();
        assert!(e.contains("no space left"), "{e}");
    }

    #[test]
    fn names_longer_than_esp32_mounts_are_refused() {
        let long = format!("/{}.gz", "a".repeat(70));
        assert!(pack(&[(long, vec![1])], 4096, 1 << 16).unwrap_err().contains("longer than 64"));
    }
}
