//! Device shapes seen in tutorials (`wsdeck-sim --profile NAME`): firmware that never heard of
//! wsdeck. Each profile says what the device takes from the app, what it answers and what it
//! sends, so that the app can be tried against what people already have. Pure: time and sensor
//! readings come in as parameters.

/// One device shape. None of them sends hello, pongs, state or log frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The MicroPython/Microdot tutorial car: five words, `OK` to each, and any other frame
    /// raises in its handler, which drops the connection.
    TutorialCar,
    /// The ESP32 sensor tutorial: readings as JSON strings, once a second, after `getReadings`.
    StringReadings,
    /// Plain text lines: `temp=21.5, hum=40` and CSV `21.5,40.1`, in turn.
    TextFrames,
    /// Nested objects, an array, a text state and an on/off relay.
    Nested,
    /// Series names with spaces, brackets, accents, CJK, a slash and quotes.
    SpacedNames,
    /// A car that only listens: it takes the five words and never sends anything.
    SilentCar,
}

/// Every profile, in the order `--help` lists them.
pub const ALL: [Profile; 6] = [
    Profile::TutorialCar,
    Profile::StringReadings,
    Profile::TextFrames,
    Profile::Nested,
    Profile::SpacedNames,
    Profile::SilentCar,
];

/// The words the tutorial cars take, and the wheel commands they mean.
pub const WORDS: [(&str, (f64, f64)); 5] = [
    ("forward", (1.0, 1.0)),
    ("reverse", (-1.0, -1.0)),
    ("left", (-1.0, 1.0)),
    ("right", (1.0, -1.0)),
    ("stop", (0.0, 0.0)),
];

/// What the string-readings tutorial waits for before it sends anything.
pub const GET_READINGS: &str = "getReadings";

/// What a profile does with one text frame from the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// A drive word: these wheel commands, then this answer (if any).
    Word { l: f64, r: f64, reply: Option<&'static str> },
    /// The app asked for readings: from now on this connection gets them.
    Subscribe,
    /// Not for this device; it carries on.
    Ignored,
    /// Not expected: the device drops the connection (its handler raised).
    Close,
}

/// The sensors a profile reports, sampled by the simulator at `t_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Frames sent before this one (it picks the gap, the line shape, the relay).
    pub n: u64,
    pub t_ms: u64,
    pub temp_c: f64,
    pub battery_v: f64,
    /// The simulated car's left wheel, m/s.
    pub wheel_l_mps: f64,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::TutorialCar => "tutorial-car",
            Profile::StringReadings => "string-readings",
            Profile::TextFrames => "text-frames",
            Profile::Nested => "nested",
            Profile::SpacedNames => "spaced-names",
            Profile::SilentCar => "silent-car",
        }
    }

    /// What `--help` says about it, in lines of at most 80 characters.
    pub fn help(self) -> &'static str {
        match self {
            Profile::TutorialCar => {
                "a MicroPython/Microdot tutorial car: takes the words forward, reverse,\n\
                 left, right, stop, answers each with `OK`, and drops the connection on\n\
                 any other frame (a ping, any JSON, an unknown word); sends nothing else"
            }
            Profile::StringReadings => {
                "the ESP32 sensor tutorial: {\"temperature\":\"23.12\",\"humidity\":...},\n\
                 numbers as JSON strings, now and then \"nan\"; 1 Hz (--rate), and only\n\
                 to a connection that sent `getReadings` (it waits for that)"
            }
            Profile::TextFrames => "plain text lines `temp=21.5, hum=40` and CSV `21.5,40.1` in turn; 5 Hz",
            Profile::Nested => {
                "{\"bme280\":{\"t\":21.5,\"h\":40},\"accel\":[0.1,0.2,9.8],\"state\":\"IDLE\",\n\
                 \"relay\":\"ON\"}; 5 Hz"
            }
            Profile::SpacedNames => {
                "{\"left wheel\":0.5,\"battery (V)\":3.9,\"température °C\":21,\"温度\":20.5,\n\
                 \"a/b \\\"q\\\"\":1}; 5 Hz"
            }
            Profile::SilentCar => "a car that only listens: takes the tutorial car's words, sends nothing",
        }
    }

    pub fn parse(name: &str) -> Option<Profile> {
        ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether it drives the simulated car with [`WORDS`].
    pub fn takes_words(self) -> bool {
        matches!(self, Profile::TutorialCar | Profile::SilentCar)
    }

    /// Telemetry frames per second when `--rate` is not given; 0 for a device that sends none.
    pub fn default_rate_hz(self) -> u32 {
        match self {
            Profile::TutorialCar | Profile::SilentCar => 0,
            Profile::StringReadings => 1,
            Profile::TextFrames | Profile::Nested | Profile::SpacedNames => 5,
        }
    }

    /// Whether it ever sends readings (a car never does, whatever `--rate` says).
    pub fn sends_readings(self) -> bool {
        self.default_rate_hz() > 0
    }

    /// Whether a connection gets readings only after it sent [`GET_READINGS`].
    pub fn waits_for_request(self) -> bool {
        self == Profile::StringReadings
    }

    /// What the device does with `text`, a text frame from the app.
    pub fn on_frame(self, text: &str) -> Heard {
        let word = WORDS.iter().find(|(w, _)| *w == text).map(|(_, wheels)| *wheels);
        match (self, word) {
            (Profile::TutorialCar, Some((l, r))) => Heard::Word { l, r, reply: Some("OK") },
            // The tutorial looks the message up in a table and calls the result: a KeyError.
            (Profile::TutorialCar, None) => Heard::Close,
            (Profile::SilentCar, Some((l, r))) => Heard::Word { l, r, reply: None },
            (Profile::StringReadings, _) if text == GET_READINGS => Heard::Subscribe,
            _ => Heard::Ignored,
        }
    }

    /// The frame it sends for `s`, `None` for a device that sends no readings.
    pub fn frame(self, s: &Sample) -> Option<String> {
        let t = s.t_ms as f64 / 1000.0;
        let round = |v: f64, digits: i32| (v * 10f64.powi(digits)).round() / 10f64.powi(digits);
        let humidity = 45.0 + 5.0 * (t / 40.0).sin();
        Some(match self {
            Profile::TutorialCar | Profile::SilentCar => return None,
            Profile::StringReadings => {
                let pressure = 1013.25 + 2.0 * (t / 300.0).sin();
                // A sensor read that failed now and then: the tutorial prints what it got.
                let humidity = if s.n % 10 == 7 { "nan".to_string() } else { format!("{humidity:.2}") };
                format!(
                    r#"{{"temperature":"{:.2}","humidity":"{humidity}","pressure":"{pressure:.2}"}}"#,
                    s.temp_c
                )
            }
            Profile::TextFrames => {
                let (temp, hum) = (round(s.temp_c, 1), round(humidity, 1));
                if s.n.is_multiple_of(2) {
                    format!("temp={temp}, hum={hum}")
                } else {
                    format!("{temp},{hum}")
                }
            }
            Profile::Nested => {
                let wobble = |k: f64| round(0.1 * (t * k).sin(), 2);
                let state = if (s.t_ms / 4000) % 3 == 2 { "RUN" } else { "IDLE" };
                let relay = if (s.t_ms / 5000).is_multiple_of(2) { "ON" } else { "OFF" };
                format!(
                    r#"{{"bme280":{{"t":{},"h":{}}},"accel":[{},{},{}],"state":"{state}","relay":"{relay}"}}"#,
                    round(s.temp_c, 1),
                    round(humidity, 1),
                    wobble(1.3),
                    wobble(1.7),
                    round(9.8 + wobble(2.3), 2),
                )
            }
            Profile::SpacedNames => format!(
                r#"{{"left wheel":{},"battery (V)":{},"température °C":{},"温度":{},"a/b \"q\"":{}}}"#,
                round(s.wheel_l_mps, 3),
                // One cell of the car's 2S pack.
                round(s.battery_v / 2.0, 2),
                round(s.temp_c, 1),
                round(s.temp_c - 0.5, 1),
                s.n % 10,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(n: u64) -> Sample {
        Sample { n, t_ms: n * 1000, temp_c: 21.5, battery_v: 7.8, wheel_l_mps: 0.5 }
    }

    #[test]
    fn names_round_trip_and_every_profile_has_help() {
        for p in ALL {
            assert_eq!(Profile::parse(p.name()), Some(p));
            assert!(!p.help().is_empty());
        }
        assert_eq!(Profile::parse("tutorial"), None);
    }

    #[test]
    fn the_tutorial_car_answers_its_words_and_drops_anything_else() {
        let car = Profile::TutorialCar;
        assert_eq!(car.on_frame("forward"), Heard::Word { l: 1.0, r: 1.0, reply: Some("OK") });
        assert_eq!(car.on_frame("reverse"), Heard::Word { l: -1.0, r: -1.0, reply: Some("OK") });
        assert_eq!(car.on_frame("stop"), Heard::Word { l: 0.0, r: 0.0, reply: Some("OK") });
        for unexpected in [r#"{"t":"ping","id":1}"#, "{}", "up", "Forward", "forward\n", ""] {
            assert_eq!(car.on_frame(unexpected), Heard::Close, "{unexpected:?}");
        }
    }

    #[test]
    fn the_silent_car_drives_and_never_answers() {
        let car = Profile::SilentCar;
        assert_eq!(car.on_frame("left"), Heard::Word { l: -1.0, r: 1.0, reply: None });
        assert_eq!(car.on_frame(r#"{"t":"ping","id":1}"#), Heard::Ignored);
        assert_eq!(car.frame(&sample(0)), None);
        assert!(!car.sends_readings());
    }

    #[test]
    fn string_readings_wait_for_get_readings_and_have_gaps() {
        let p = Profile::StringReadings;
        assert!(p.waits_for_request());
        assert_eq!(p.on_frame("getReadings"), Heard::Subscribe);
        assert_eq!(p.on_frame(r#"{"t":"ping","id":1}"#), Heard::Ignored);
        let frame = p.frame(&sample(0)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(v["temperature"], "21.50");
        assert_eq!(v["humidity"], "45.00");
        assert_eq!(v["pressure"], "1013.25");
        let gap: serde_json::Value = serde_json::from_str(&p.frame(&sample(7)).unwrap()).unwrap();
        assert_eq!(gap["humidity"], "nan");
    }

    #[test]
    fn text_frames_take_turns_between_pairs_and_csv() {
        let p = Profile::TextFrames;
        assert_eq!(p.frame(&sample(0)).unwrap(), "temp=21.5, hum=45");
        assert!(p.frame(&sample(1)).unwrap().starts_with("21.5,"));
    }

    #[test]
    fn nested_and_spaced_names_are_json_with_those_keys() {
        let v: serde_json::Value = serde_json::from_str(&Profile::Nested.frame(&sample(0)).unwrap()).unwrap();
        assert_eq!(v["bme280"]["t"], 21.5);
        assert_eq!(v["bme280"]["h"], 45.0);
        assert_eq!(v["accel"].as_array().unwrap().len(), 3);
        assert_eq!((v["state"].as_str(), v["relay"].as_str()), (Some("IDLE"), Some("ON")));
        let v: serde_json::Value =
            serde_json::from_str(&Profile::SpacedNames.frame(&sample(3)).unwrap()).unwrap();
        assert_eq!(v["left wheel"], 0.5);
        assert_eq!(v["battery (V)"], 3.9);
        assert_eq!(v["température °C"], 21.5);
        assert_eq!(v["温度"], 21.0);
        assert_eq!(v["a/b \"q\""], 3);
    }
}
