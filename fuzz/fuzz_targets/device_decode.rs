//! Any bytes as a frame from a device: `DeviceMsg::decode` returns Ok or Err, never panics, what it
//! reads keeps within its caps (protocol/src/reading.rs) and round-trips
//! (`wsdeck_protocol::mutate::check_device`). Bytes that are not UTF-8 are replaced (decode takes
//! text), so the readers of plain-text lines meet replacement characters too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck_protocol::mutate::check_device;

fuzz_target!(|data: &[u8]| {
    check_device(&String::from_utf8_lossy(data));
});
