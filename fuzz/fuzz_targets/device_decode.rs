//! Any bytes as a frame from a device: `DeviceMsg::decode` returns Ok or Err, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck_protocol::DeviceMsg;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = DeviceMsg::decode(text);
    }
});
