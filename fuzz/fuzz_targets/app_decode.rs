//! Any bytes as a frame from the app (what a device decodes): `AppMsg::decode` never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck_protocol::AppMsg;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = AppMsg::decode(text);
    }
});
