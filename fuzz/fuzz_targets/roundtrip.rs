//! Whatever decodes survives encode -> decode with the same readings, both directions, and a
//! device message's canonical form is a fixed point (`wsdeck_protocol::mutate::check_device`). The
//! same property runs on stable in protocol/tests/mutated.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck_protocol::mutate::{check_app, check_device};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check_device(text);
    check_app(text);
});
