//! The telemetry frame (docs/PROTOCOL.md `tel`): battery voltage from the ADC through a
//! resistor divider, the WiFi signal, the chip's temperature. A reading the firmware could not
//! take is sent as a gap (`null`), so the app breaks the line instead of drawing a false value.

use alloc::string::String;
use alloc::vec;
use wsdeck_protocol::{DeviceMsg, Reading, Telemetry};

/// The readings of one sample; `None` is a gap.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    pub battery_v: Option<f32>,
    pub rssi_dbm: Option<i32>,
    pub temp_c: Option<f32>,
}

/// The battery voltage for a pin voltage in mV, with the divider's resistors in ohms (battery
/// to pin `top`, pin to ground `bottom`).
pub fn battery_volts(pin_mv: u16, top: u32, bottom: u32) -> Option<f32> {
    if bottom == 0 {
        return None;
    }
    Some(f32::from(pin_mv) * (top + bottom) as f32 / bottom as f32 / 1000.0)
}

/// `{"t":"tel","ms":...,"d":{"battery_v":7.42,"rssi_dbm":-51,"temp_c":41.3}}`.
pub fn frame(uptime_ms: u64, s: &Sample) -> String {
    let reading =
        |v: Option<f32>| v.filter(|v| v.is_finite()).map_or(Reading::Gap, |v| Reading::Num(hundredths(v)));
    DeviceMsg::Telemetry(Telemetry {
        ms: Some(uptime_ms as f64),
        values: vec![
            ("battery_v".into(), reading(s.battery_v)),
            ("rssi_dbm".into(), s.rssi_dbm.map_or(Reading::Gap, |r| Reading::Num(f64::from(r)))),
            ("temp_c".into(), reading(s.temp_c)),
        ],
        tagged: true,
        skipped: 0,
    })
    .encode()
}

/// Two decimals are what a person reads; more would only lengthen every frame. (`f64::round`
/// is not in `core`.)
fn hundredths(v: f32) -> f64 {
    let scaled = f64::from(v) * 100.0;
    let half = if scaled < 0.0 { -0.5 } else { 0.5 };
    (scaled + half) as i64 as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_divider_scales_the_pin_voltage() {
        // 100k over 33k: 8.4 V at the battery is 2.08 V at the pin.
        let v = battery_volts(2084, 100_000, 33_000).unwrap();
        assert!((v - 8.4).abs() < 0.01, "{v}");
        assert_eq!(battery_volts(1000, 1, 0), None);
    }

    #[test]
    fn the_frame_reads_back_and_a_missing_reading_is_a_gap() {
        let s = Sample { battery_v: Some(7.4166), rssi_dbm: None, temp_c: Some(f32::NAN) };
        let text = frame(1234, &s);
        assert_eq!(text, r#"{"t":"tel","ms":1234,"d":{"battery_v":7.42,"rssi_dbm":null,"temp_c":null}}"#);
        let DeviceMsg::Telemetry(tel) = DeviceMsg::decode(&text).unwrap() else { panic!() };
        assert_eq!(tel.values[0], ("battery_v".into(), Reading::Num(7.42)));
        assert_eq!(tel.values[1].1, Reading::Gap);
        assert_eq!(
            frame(0, &Sample { temp_c: Some(-3.456), ..Sample::default() }),
            r#"{"t":"tel","ms":0,"d":{"battery_v":null,"rssi_dbm":null,"temp_c":-3.46}}"#
        );
    }
}
