//! Whatever decodes survives encode -> decode unchanged, both directions, and a device message's
//! canonical form is a fixed point. The same property runs on stable in protocol/tests/mutated.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck_protocol::{AppMsg, DeviceMsg};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(msg) = DeviceMsg::decode(text) {
        let encoded = msg.encode();
        let again = DeviceMsg::decode(&encoded).unwrap_or_else(|e| panic!("{text:?} -> {encoded:?}: {e}"));
        assert_eq!(again, msg, "{text:?} -> {encoded:?}");
        assert_eq!(again.encode(), encoded);
    }
    if let Ok(msg) = AppMsg::decode(text) {
        let encoded = msg.encode();
        let again = AppMsg::decode(&encoded).unwrap_or_else(|e| panic!("{text:?} -> {encoded:?}: {e}"));
        assert_eq!(again, msg, "{text:?} -> {encoded:?}");
    }
});
