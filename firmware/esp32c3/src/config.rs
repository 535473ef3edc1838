//! Everything a builder changes for their car: WiFi, the device's settings, and the board's
//! wiring (docs/FIRMWARE.md, "Rust on the ESP32-C3"). Nothing else needs editing for another
//! board with the same chip.

use wsdeck_device::guard::Policy;
use wsdeck_esp32c3::device::Setup;
use wsdeck_protocol::PairingMode;

/// How the car is on WiFi.
#[allow(dead_code, reason = "WIFI below picks one of the two")]
pub enum Wifi {
    /// The car opens its own network; the phone joins it and opens http://192.168.4.1/.
    AccessPoint { ssid: &'static str, password: &'static str, channel: u8 },
    /// The car joins your network (DHCP); the address it got is printed on the serial monitor.
    Station { ssid: &'static str, password: &'static str },
}

/// An access point with WPA2 (a password of 8 characters or more), as the Arduino sketch has.
pub const WIFI: Wifi = Wifi::AccessPoint { ssid: "wsdeck-car", password: "drive-me-1", channel: 6 };
// pub const WIFI: Wifi = Wifi::Station { ssid: "your-network", password: "your-password" };

pub const DEVICE: Setup = Setup {
    name: "wsdeck car (ESP32-C3)",
    watchdog_ms: 300,
    // Some("a-token-not-easy-to-guess") asks phones for it (docs/PROTOCOL.md, Pairing).
    token: None,
    // Required: without the token, nothing but hello. Control: anyone may watch.
    pairing: PairingMode::Required,
    max_msg_rate: 200,
};

/// Who may open the control socket besides pages this car served (docs/SECURITY.md).
pub const GUARD: Policy<&[&str]> = Policy { allow_origins: &[], allow_hosts: &["wsdeck-car.local"] };

/// Telemetry frames per second (0 for none).
pub const TELEMETRY_HZ: u32 = 20;
/// The watchdog's clock: the wheels stop at most this long after `watchdog_ms` has passed.
pub const WATCHDOG_TICK_MS: u64 = 20;

/// Motor PWM: 20 kHz is silent on a TB6612FNG; an L298N switches slowly, 1-2 kHz suits it.
pub const PWM_HZ: u32 = 20_000;
/// Commands under this (out of 1000) leave a motor off instead of humming.
pub const MIN_COMMAND: i16 = 0;
/// Swap a motor's direction instead of rewiring one that turns the wrong way.
pub const LEFT_REVERSED: bool = false;
pub const RIGHT_REVERSED: bool = false;
/// Battery divider: battery -> TOP ohms -> pin -> BOTTOM ohms -> ground. The pin must stay
/// under 2.5 V (the ADC's range at 11 dB); 100k over 33k reads up to about 10 V.
pub const BATTERY_DIVIDER_TOP: u32 = 100_000;
pub const BATTERY_DIVIDER_BOTTOM: u32 = 33_000;

/// The board's wiring: which GPIO does what. ESP32-C3 pins free on most boards (SuperMini,
/// DevKitM-1): GPIO 0-7 and 10; 2, 8 and 9 are strapping pins, 12-17 the flash, 18/19 USB,
/// 20/21 the UART. The battery needs an ADC1 pin (GPIO 0-4).
macro_rules! pins {
    ($p:ident) => {
        crate::Pins {
            // H-bridge (L298N ENA/IN1/IN2, TB6612FNG PWMA/AIN1/AIN2; tie STBY high).
            left_pwm: esp_hal::gpio::Pin::degrade($p.GPIO4),
            left_in1: esp_hal::gpio::Pin::degrade($p.GPIO5),
            left_in2: esp_hal::gpio::Pin::degrade($p.GPIO6),
            right_pwm: esp_hal::gpio::Pin::degrade($p.GPIO7),
            right_in1: esp_hal::gpio::Pin::degrade($p.GPIO10),
            right_in2: esp_hal::gpio::Pin::degrade($p.GPIO1),
            battery_adc: $p.GPIO3,
            // The app's Headlights and Horn controls: high while on (drive an LED or a buzzer
            // through a transistor). GPIO 2 is a strapping pin: nothing on it may pull it low
            // at reset.
            lights: esp_hal::gpio::Pin::degrade($p.GPIO0),
            horn: esp_hal::gpio::Pin::degrade($p.GPIO2),
        }
    };
}
