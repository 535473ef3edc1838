//! Command-line flags of `wsdeck-sim`: each declared once in [`FLAGS`], with its help beside it.

use crate::profile::{self, Profile};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// One command-line flag, declared once: `--help` is written from this table and parsing looks
/// flags up in it, so the two cannot part ways.
struct Flag {
    name: &'static str,
    /// What it takes, as help names it (`ADDR`); `None` for a switch.
    value: Option<&'static str>,
    /// Lines of help, the first beside the flag.
    help: &'static str,
    /// Applies the flag (a switch gets an empty value); an error says what is wrong with the value.
    set: fn(&mut Parsed, &str) -> Result<(), String>,
}

/// The config being read, and what decides how a profile combines with other flags.
#[derive(Default)]
struct Parsed {
    c: Config,
    /// A profile brings its own rate unless `--rate` says otherwise, in whatever order.
    rate_given: bool,
    /// Flags that a profile sets itself.
    shape_flags: Vec<&'static str>,
    help: bool,
}

/// `text` as a number within `range`.
fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    text: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, String> {
    text.parse().ok().filter(|n| range.contains(n)).ok_or(format!(
        "`{text}` is not a number from {} to {}",
        range.start(),
        range.end()
    ))
}

const FLAGS: &[Flag] = &[
    Flag {
        name: "--bind",
        value: Some("ADDR"),
        help: "address to listen on (default 0.0.0.0:8080; port 0 picks a free one)",
        set: |p, v| {
            p.c.bind = v.parse().map_err(|_| format!("`{v}` is not IP:PORT"))?;
            Ok(())
        },
    },
    Flag {
        name: "--dist",
        value: Some("DIR"),
        help: "built app to serve (default dist)",
        set: |p, v| {
            p.c.dist = v.into();
            Ok(())
        },
    },
    Flag {
        name: "--rate",
        value: Some("HZ"),
        help: "telemetry frames per second, 0 for none (default 20, at most 2000)",
        set: |p, v| {
            p.c.rate_hz = number(v, 0..=2000)?;
            p.rate_given = true;
            Ok(())
        },
    },
    Flag {
        name: "--name",
        value: Some("NAME"),
        help: "device name sent in hello (default \"wsdeck sim\")",
        set: |p, v| {
            p.c.name = v.to_string();
            Ok(())
        },
    },
    Flag {
        name: "--format",
        value: Some("FORMAT"),
        help: "telemetry as `tel` frames (default), `bare` objects of numbers, or a bare\n\
               `number`, the shapes older firmware sends",
        set: |p, v| {
            p.c.format = match v {
                "tel" => TelFormat::Tel,
                "bare" => TelFormat::Bare,
                "number" => TelFormat::Number,
                _ => return Err(format!("`{v}` is not tel, bare or number")),
            };
            p.shape_flags.push("--format");
            Ok(())
        },
    },
    Flag {
        name: "--unix-ms",
        value: None,
        help: "telemetry's `ms` is the Unix time (ms, to the microsecond) the frame was made,\n\
               not the time since start: one clock with a receiver on the same machine\n\
               (cargo xtask bench --only fleet times latency by it)",
        set: |p, _| {
            p.c.unix_ms = true;
            Ok(())
        },
    },
    Flag {
        name: "--no-hello",
        value: None,
        help: "do not send hello on connect, like firmware that predates wsdeck",
        set: |p, _| {
            p.c.hello = false;
            Ok(())
        },
    },
    Flag {
        name: "--watchdog-ms",
        value: Some("MS"),
        help: "stop the car when no drive frame came for this long (default 300)",
        set: |p, v| {
            p.c.watchdog_ms = number(v, 20..=60_000)?;
            Ok(())
        },
    },
    Flag {
        name: "--dialect",
        value: Some("D"),
        help: "`json` (protocol v1, default) or `text`: a tutorial car that takes the\n\
               words up, down, left, right, stop (no lease, no watchdog)",
        set: |p, v| {
            p.c.dialect = match v {
                "json" => Dialect::Json,
                "text" => Dialect::Text,
                _ => return Err(format!("`{v}` is not json or text")),
            };
            p.shape_flags.push("--dialect");
            Ok(())
        },
    },
    Flag {
        name: "--allow-origin",
        value: Some("O"),
        help: "also accept WebSocket connections from pages served at origin O, e.g.\n\
               http://127.0.0.1:8081 (repeatable; by default only this device's own pages)",
        set: |p, v| {
            p.c.guard.allow_origins.push(v.trim_end_matches('/').to_string());
            Ok(())
        },
    },
    Flag {
        name: "--allow-host",
        value: Some("H"),
        help: "also answer to host name H, e.g. car.local (repeatable; IPs and localhost\n\
               always work; other names are refused against DNS rebinding)",
        set: |p, v| {
            p.c.guard.allow_hosts.push(v.to_string());
            Ok(())
        },
    },
    Flag {
        name: "--max-msg-rate",
        value: Some("N"),
        help: "messages per second one client may send, with a burst of a quarter second's\n\
               worth (default 200; 0 for no cap). Excess is dropped and counted, a stop\n\
               frame never is; a client over the cap for 5 s on end is closed (1008)",
        set: |p, v| {
            p.c.max_msg_rate = v.parse().map_err(|_| format!("`{v}` is not a whole number"))?;
            Ok(())
        },
    },
    Flag {
        name: "--client-queue",
        value: Some("N"),
        help: "telemetry frames kept for a client that is behind; older ones are dropped\n\
               (default 256)",
        set: |p, v| {
            p.c.client_queue = number(v, 1..=100_000)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-connections",
        value: Some("N"),
        help: "open connections at most (default 512); when all are taken a new one takes\n\
               the place of a plain HTTP one, a WebSocket silent for 3 s, or an unpaired one",
        set: |p, v| {
            p.c.max_connections = number(v, 1..=100_000)?;
            Ok(())
        },
    },
    Flag {
        name: "--silent-close-ms",
        value: Some("MS"),
        help: "close a WebSocket that sent nothing for this long, when the device says\n\
               hello (the app then pings every second; default 10000, 0 never)",
        set: |p, v| {
            p.c.silent_close_ms = number(v, 0..=3_600_000)?;
            Ok(())
        },
    },
    Flag {
        name: "--token",
        value: Some("T"),
        help: "ask for pairing token T (docs/PROTOCOL.md, Pairing): until a connection sends\n\
               it, the device obeys only `stop` and sends nothing but hello",
        set: |p, v| {
            if v.is_empty() || v.chars().count() > wsdeck_protocol::MAX_TOKEN_CHARS {
                return Err(format!("1 to {} characters", wsdeck_protocol::MAX_TOKEN_CHARS));
            }
            p.c.token = Some(v.to_string());
            p.shape_flags.push("--token");
            Ok(())
        },
    },
    Flag {
        name: "--token-read-only",
        value: None,
        help: "with --token: anyone may watch (telemetry, state, log); driving needs it",
        set: |p, _| {
            p.c.token_read_only = true;
            Ok(())
        },
    },
    Flag {
        name: "--profile",
        value: Some("NAME"),
        help: "act like a device seen in tutorials (below): no hello, nothing\n\
               wsdeck-specific; not with --format, --dialect or --token",
        set: |p, v| {
            let names: Vec<_> = profile::ALL.iter().map(|p| p.name()).collect();
            let profile = Profile::parse(v).ok_or(format!("`{v}` is not one of {}", names.join(", ")))?;
            p.c.profile = Some(profile);
            Ok(())
        },
    },
    Flag {
        name: "--controls",
        value: Some("SET"),
        help: "the controls it declares: car (headlights, horn, drive profile, camera pan,\n\
               display text, battery gauge; the default), none, or many (100, 30 of them\n\
               changing at 50 Hz, for the benchmark); none with --profile or --dialect text",
        set: |p, v| {
            let names = crate::controls::Set::NAMES.join(", ");
            p.c.controls = crate::controls::Set::parse(v).ok_or(format!("`{v}` is not one of {names}"))?;
            Ok(())
        },
    },
    Flag {
        name: "--mqtt",
        value: Some("HOST:PORT"),
        help: "be a fleet of devices on this MQTT broker, not an HTTP server (docs/FLEET.md)",
        set: |p, v| {
            let bad = || format!("`{v}` is not HOST:PORT");
            let (host, port) = v.rsplit_once(':').ok_or_else(bad)?;
            let port = port.parse().map_err(|_| bad())?;
            p.c.mqtt = Some((host.trim_matches(['[', ']']).to_string(), port));
            Ok(())
        },
    },
    Flag {
        name: "--fleet",
        value: Some("N"),
        help: "with --mqtt: this many devices, sim-01 to sim-NN, each its own connection\n\
               (default 1)",
        set: |p, v| {
            p.c.fleet = number(v, 1..=1000)?;
            Ok(())
        },
    },
    Flag {
        name: "--mqtt-password-file",
        value: Some("FILE"),
        help: "with --mqtt: each device logs in as its id with the password in FILE",
        set: |p, v| {
            let text = std::fs::read_to_string(v).map_err(|e| format!("{v}: {e}"))?;
            p.c.mqtt_password = Some(text.trim_end_matches(['\r', '\n']).to_string());
            Ok(())
        },
    },
    Flag {
        name: "--seed",
        value: Some("N"),
        help: "seed of the simulated sensors' noise (default 1)",
        set: |p, v| {
            p.c.seed = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
            Ok(())
        },
    },
    Flag {
        name: "--no-qr",
        value: None,
        help: "do not print the QR code",
        set: |p, _| {
            p.c.qr = false;
            Ok(())
        },
    },
    Flag {
        name: "--help",
        value: None,
        help: "this text (also -h)",
        set: |p, _| {
            p.help = true;
            Ok(())
        },
    },
];

const ABOUT: &str = "\
wsdeck-sim: a simulated wsdeck device. Serves the built app (dist/) the way firmware does and
speaks wsdeck protocol v1 on /ws.

USAGE: wsdeck-sim [FLAGS]
";

const HOOKS: &str = "
Pages and test hooks (POST only from this computer; Host as for /ws, and no page of another site):
  GET  /sim/                 the car seen from above, live
  GET  /sim/state            the simulator's state as JSON
  POST /sim/send[?binary=1]  sends the request body to every WebSocket client as one frame
  POST /sim/stall?ms=N       loses every WebSocket frame, both ways, for N ms (nothing closes)
";

/// `  name  first line` and the further lines under the first, help in column 21.
fn rows(out: &mut String, name: &str, help: &str) {
    let mut lines = help.lines();
    out.push_str(&format!("  {name:<17} {}\n", lines.next().unwrap_or("")));
    for line in lines {
        out.push_str(&format!("{:20}{line}\n", ""));
    }
}

/// What `--help` prints: every flag of [`FLAGS`], every profile, the test hooks.
pub fn usage() -> String {
    let mut out = format!("{ABOUT}\n");
    for flag in FLAGS {
        let name = match flag.value {
            Some(value) => format!("{} {value}", flag.name),
            None => flag.name.to_string(),
        };
        rows(&mut out, &name, flag.help);
    }
    out.push_str(
        "\nProfiles (rates are defaults, --rate sets another; GET /sim/state shows what the device heard\n\
         and which frames made it close the connection):\n",
    );
    for p in profile::ALL {
        rows(&mut out, p.name(), p.help());
    }
    out + HOOKS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelFormat {
    Tel,
    Bare,
    Number,
}

impl TelFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TelFormat::Tel => "tel",
            TelFormat::Bare => "bare",
            TelFormat::Number => "number",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Json,
    Text,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Json => "json",
            Dialect::Text => "text",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub dist: PathBuf,
    pub rate_hz: u32,
    pub name: String,
    pub format: TelFormat,
    /// `--unix-ms`: telemetry is stamped with the Unix time, not the time since start.
    pub unix_ms: bool,
    pub hello: bool,
    pub watchdog_ms: u64,
    pub dialect: Dialect,
    pub seed: u64,
    pub qr: bool,
    /// Messages per second one client may send; 0 for no cap.
    pub max_msg_rate: u32,
    /// Broadcast frames kept per client; older ones are dropped.
    pub client_queue: usize,
    /// Open connections at most.
    pub max_connections: usize,
    /// A silent WebSocket is closed after this long (0: never); only when hello is sent.
    pub silent_close_ms: u64,
    /// Who may open the control socket.
    pub guard: crate::guard::Policy,
    /// The pairing token, if the device asks for one.
    pub token: Option<String>,
    /// With a token: watching needs none, driving does.
    pub token_read_only: bool,
    /// A tutorial device shape instead of protocol v1.
    pub profile: Option<Profile>,
    /// The controls it declares (only when it speaks protocol v1).
    pub controls: crate::controls::Set,
    /// `--mqtt`: the broker a fleet of devices connects to, instead of serving HTTP.
    pub mqtt: Option<(String, u16)>,
    /// `--fleet`: how many devices on the broker.
    pub fleet: usize,
    /// `--mqtt-password-file`: the password every simulated device logs in with.
    pub mqtt_password: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([0, 0, 0, 0], 8080)),
            dist: PathBuf::from("dist"),
            rate_hz: 20,
            name: "wsdeck sim".into(),
            format: TelFormat::Tel,
            unix_ms: false,
            hello: true,
            watchdog_ms: 300,
            dialect: Dialect::Json,
            seed: 1,
            qr: true,
            max_msg_rate: 200,
            client_queue: 256,
            max_connections: 512,
            silent_close_ms: 10_000,
            guard: crate::guard::Policy::default(),
            token: None,
            token_read_only: false,
            profile: None,
            controls: crate::controls::Set::Car,
            mqtt: None,
            fleet: 1,
            mqtt_password: None,
        }
    }
}

impl Config {
    /// `Ok(None)` means help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, String> {
        let mut p = Parsed::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let name = if arg == "-h" { "--help" } else { arg.as_str() };
            let flag = FLAGS.iter().find(|f| f.name == name).ok_or(format!("unknown flag `{arg}`"))?;
            let value = match flag.value {
                Some(what) => args.next().ok_or(format!("{} needs {what}", flag.name))?,
                None => String::new(),
            };
            (flag.set)(&mut p, &value).map_err(|e| format!("{}: {e}", flag.name))?;
        }
        if p.help {
            return Ok(None);
        }
        let mut c = p.c;
        if c.mqtt.is_none() && (c.fleet != 1 || c.mqtt_password.is_some()) {
            return Err("--fleet and --mqtt-password-file go with --mqtt HOST:PORT".into());
        }
        if c.mqtt.is_some() && !c.speaks_protocol() {
            return Err("--mqtt devices speak protocol v1: drop --profile and --dialect text".into());
        }
        if let Some(profile) = c.profile {
            if let Some(flag) = p.shape_flags.first() {
                return Err(format!("--profile {} sets its own shape: drop {flag}", profile.name()));
            }
            c.hello = false;
            c.dialect = if profile.takes_words() { Dialect::Text } else { Dialect::Json };
            if !profile.sends_readings() {
                c.rate_hz = 0;
            } else if !p.rate_given {
                c.rate_hz = profile.default_rate_hz();
            }
        }
        Ok(Some(c))
    }

    /// What the device keeps from connections without its token (`None`: no pairing). A tutorial
    /// car (`--dialect text`) speaks no JSON, so it has no pairing.
    pub fn pairing(&self) -> Option<wsdeck_protocol::PairingMode> {
        use wsdeck_protocol::PairingMode;
        if self.profile.is_some() {
            return None;
        }
        match (&self.token, self.dialect) {
            (Some(_), Dialect::Json) if self.token_read_only => Some(PairingMode::Control),
            (Some(_), Dialect::Json) => Some(PairingMode::Required),
            _ => None,
        }
    }

    /// The controls it declares: none for a device that does not speak protocol v1.
    pub fn controls(&self) -> crate::controls::Set {
        if self.speaks_protocol() {
            self.controls
        } else {
            crate::controls::Set::None
        }
    }

    /// Whether it speaks protocol v1 (hello, pong, state, log): not a profile, not the words.
    pub fn speaks_protocol(&self) -> bool {
        self.profile.is_none() && self.dialect == Dialect::Json
    }

    /// Time between telemetry frames, `None` when telemetry is off.
    pub fn period(&self) -> Option<Duration> {
        (self.rate_hz > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(self.rate_hz)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Config>, String> {
        Config::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_bind_all_interfaces_for_a_phone() {
        let c = parse(&[]).unwrap().unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:8080");
        assert_eq!(c.rate_hz, 20);
        assert!(c.hello);
    }

    #[test]
    fn flags_are_read() {
        let c = parse(&[
            "--bind",
            "127.0.0.1:0",
            "--rate",
            "1000",
            "--format",
            "bare",
            "--no-hello",
            "--dialect",
            "text",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.bind.port(), 0);
        assert_eq!(c.period(), Some(Duration::from_millis(1)));
        assert_eq!(c.format, TelFormat::Bare);
        assert!(!c.hello);
        assert_eq!(c.dialect, Dialect::Text);
    }

    #[test]
    fn bad_flags_say_what_is_wrong() {
        assert!(parse(&["--rate", "5000"]).unwrap_err().contains("0 to 2000"));
        assert!(parse(&["--bind"]).unwrap_err().contains("needs"));
        assert!(parse(&["--frobnicate"]).unwrap_err().contains("unknown flag"));
        assert_eq!(parse(&["--help"]).unwrap().map(|_| ()), None);
        assert_eq!(parse(&["--rate", "0"]).unwrap().unwrap().period(), None);
        assert_eq!(
            parse(&["--watchdog-ms", "5"]).unwrap_err(),
            "--watchdog-ms: `5` is not a number from 20 to 60000"
        );
        assert_eq!(parse(&["-h"]).unwrap().map(|_| ()), None);
    }

    #[test]
    fn help_lists_every_flag_and_profile_in_100_columns() {
        let help = usage();
        for flag in FLAGS {
            assert!(help.contains(&format!("\n  {} ", flag.name)), "{} is not in --help", flag.name);
        }
        for p in profile::ALL {
            assert!(help.contains(&format!("\n  {} ", p.name())), "{} is not in --help", p.name());
        }
        for line in help.lines() {
            assert!(line.chars().count() <= 100, "too wide: {line}");
        }
        assert!(help.contains("  --bind ADDR       address to listen on"), "{help}");
        assert!(help.contains("  --token-read-only with --token"), "{help}");
    }

    #[test]
    fn a_fleet_needs_a_broker_and_speaks_protocol_v1() {
        let c = parse(&["--mqtt", "127.0.0.1:1883", "--fleet", "20"]).unwrap().unwrap();
        assert_eq!((c.mqtt, c.fleet), (Some(("127.0.0.1".into(), 1883)), 20));
        assert_eq!(parse(&["--mqtt", "[::1]:1883"]).unwrap().unwrap().mqtt, Some(("::1".into(), 1883)));
        assert!(parse(&["--fleet", "3"]).unwrap_err().contains("go with --mqtt"));
        assert!(parse(&["--mqtt", "broker"]).unwrap_err().contains("not HOST:PORT"));
        assert!(parse(&["--mqtt", "b:1", "--profile", "nested"]).unwrap_err().contains("protocol v1"));
        assert!(parse(&["--mqtt", "b:1", "--fleet", "0"]).is_err());
    }

    #[test]
    fn a_profile_sets_hello_dialect_and_rate_unless_told() {
        let c = parse(&["--profile", "tutorial-car", "--rate", "50"]).unwrap().unwrap();
        assert_eq!((c.hello, c.dialect, c.rate_hz, c.pairing()), (false, Dialect::Text, 0, None));
        assert!(!c.speaks_protocol());
        assert_eq!(parse(&["--profile", "nested"]).unwrap().unwrap().rate_hz, 5);
        assert_eq!(parse(&["--rate", "40", "--profile", "string-readings"]).unwrap().unwrap().rate_hz, 40);
        let token = parse(&["--profile", "nested", "--token", "t"]).unwrap_err();
        assert_eq!(token, "--profile nested sets its own shape: drop --token");
        assert!(parse(&["--profile", "car"]).unwrap_err().contains("tutorial-car, string-readings"));
    }
}
