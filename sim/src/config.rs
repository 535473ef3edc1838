//! Command-line flags of `wsdeck-sim`, parsed in one place.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use wsdeck_sim::profile::{self, Profile};

const USAGE: &str = "\
wsdeck-sim: a simulated wsdeck device. Serves the built app (dist/) the way firmware does and
speaks wsdeck protocol v1 on /ws.

USAGE: wsdeck-sim [FLAGS]

  --bind ADDR       address to listen on (default 0.0.0.0:8080; port 0 picks a free one)
  --dist DIR        built app to serve (default dist)
  --rate HZ         telemetry frames per second, 0 for none (default 20, at most 2000)
  --name NAME       device name sent in hello (default \"wsdeck sim\")
  --format FORMAT   telemetry as `tel` frames (default), `bare` objects of numbers, or a bare
                    `number`, the shapes older firmware sends
  --no-hello        do not send hello on connect, like firmware that predates wsdeck
  --watchdog-ms MS  stop the car when no drive frame came for this long (default 300)
  --dialect D       `json` (protocol v1, default) or `text`: a tutorial car that takes the
                    words up, down, left, right, stop (no lease, no watchdog)
  --allow-origin O  also accept WebSocket connections from pages served at origin O, e.g.
                    http://127.0.0.1:8081 (repeatable; by default only this device's own pages)
  --allow-host H    also answer to host name H, e.g. car.local (repeatable; IPs and localhost
                    always work; other names are refused against DNS rebinding)
  --max-msg-rate N  messages per second one client may send, with a burst of a quarter second's
                    worth (default 200; 0 for no cap). Excess is dropped and counted, a stop
                    frame never is; a client over the cap for 5 s on end is closed (1008)
  --client-queue N  telemetry frames kept for a client that is behind; older ones are dropped
                    (default 256)
  --token T         ask for pairing token T (docs/PROTOCOL.md, Pairing): until a connection sends
                    it, the device obeys only `stop` and sends nothing but hello
  --token-read-only with --token: anyone may watch (telemetry, state, log); driving needs it
  --profile NAME    act like a device seen in tutorials (below): no hello, nothing
                    wsdeck-specific; not with --format, --dialect or --token
  --seed N          seed of the simulated sensors' noise (default 1)
  --no-qr           do not print the QR code
  -h, --help        this text

Profiles (rates are defaults, --rate sets another; GET /sim/state shows what the device heard
and which frames made it close the connection):
PROFILES

Pages and test hooks (POST only from this computer):
  GET  /sim/                 the car seen from above, live
  GET  /sim/state            the simulator's state as JSON
  POST /sim/send[?binary=1]  sends the request body to every WebSocket client as one frame
  POST /sim/stall?ms=N       loses every WebSocket frame, both ways, for N ms (nothing closes)
";

/// What `--help` prints.
pub fn usage() -> String {
    let profiles: String = profile::ALL
        .iter()
        .map(|p| {
            let mut lines = p.help().lines();
            let first = format!("  {:<18}{}\n", p.name(), lines.next().unwrap_or(""));
            first + &lines.map(|l| format!("{:20}{l}\n", "")).collect::<String>()
        })
        .collect();
    USAGE.replace("PROFILES\n", &profiles)
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
    pub hello: bool,
    pub watchdog_ms: u64,
    pub dialect: Dialect,
    pub seed: u64,
    pub qr: bool,
    /// Messages per second one client may send; 0 for no cap.
    pub max_msg_rate: u32,
    /// Broadcast frames kept per client; older ones are dropped.
    pub client_queue: usize,
    /// Who may open the control socket.
    pub guard: crate::guard::Policy,
    /// The pairing token, if the device asks for one.
    pub token: Option<String>,
    /// With a token: watching needs none, driving does.
    pub token_read_only: bool,
    /// A tutorial device shape instead of protocol v1.
    pub profile: Option<Profile>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([0, 0, 0, 0], 8080)),
            dist: PathBuf::from("dist"),
            rate_hz: 20,
            name: "wsdeck sim".into(),
            format: TelFormat::Tel,
            hello: true,
            watchdog_ms: 300,
            dialect: Dialect::Json,
            seed: 1,
            qr: true,
            max_msg_rate: 200,
            client_queue: 256,
            guard: crate::guard::Policy::default(),
            token: None,
            token_read_only: false,
            profile: None,
        }
    }
}

impl Config {
    /// `Ok(None)` means help was asked for.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, String> {
        let mut c = Config::default();
        let mut args = args.into_iter();
        // A profile brings its own rate unless `--rate` says otherwise, in whatever order.
        let mut rate_given = false;
        // Flags that a profile sets itself.
        let mut shape_flags = Vec::new();
        while let Some(flag) = args.next() {
            let mut value = |what: &str| args.next().ok_or(format!("{flag} needs {what}"));
            match flag.as_str() {
                "--bind" => {
                    let v = value("an address such as 0.0.0.0:8080")?;
                    c.bind = v.parse().map_err(|_| format!("--bind: `{v}` is not IP:PORT"))?;
                }
                "--dist" => c.dist = value("a directory")?.into(),
                "--rate" => {
                    rate_given = true;
                    let v = value("a rate in Hz")?;
                    c.rate_hz = v
                        .parse()
                        .ok()
                        .filter(|r| *r <= 2000)
                        .ok_or(format!("--rate: `{v}` is not a whole number from 0 to 2000"))?;
                }
                "--name" => c.name = value("a name")?,
                "--format" => {
                    shape_flags.push("--format");
                    c.format = match value("tel, bare or number")?.as_str() {
                        "tel" => TelFormat::Tel,
                        "bare" => TelFormat::Bare,
                        "number" => TelFormat::Number,
                        v => return Err(format!("--format: `{v}` is not tel, bare or number")),
                    }
                }
                "--no-hello" => c.hello = false,
                "--watchdog-ms" => {
                    let v = value("milliseconds")?;
                    c.watchdog_ms = v
                        .parse()
                        .ok()
                        .filter(|ms| (20..=60_000).contains(ms))
                        .ok_or(format!("--watchdog-ms: `{v}` is not a number from 20 to 60000"))?;
                }
                "--dialect" => {
                    shape_flags.push("--dialect");
                    c.dialect = match value("json or text")?.as_str() {
                        "json" => Dialect::Json,
                        "text" => Dialect::Text,
                        v => return Err(format!("--dialect: `{v}` is not json or text")),
                    }
                }
                "--seed" => {
                    let v = value("a number")?;
                    c.seed = v.parse().map_err(|_| format!("--seed: `{v}` is not a number"))?;
                }
                "--no-qr" => c.qr = false,
                "--token" => {
                    let v = value("a pairing token")?;
                    if v.is_empty() || v.chars().count() > wsdeck_protocol::MAX_TOKEN_CHARS {
                        return Err(format!("--token: 1 to {} characters", wsdeck_protocol::MAX_TOKEN_CHARS));
                    }
                    shape_flags.push("--token");
                    c.token = Some(v);
                }
                "--profile" => {
                    let v = value("a profile name")?;
                    let names: Vec<_> = profile::ALL.iter().map(|p| p.name()).collect();
                    let p = Profile::parse(&v)
                        .ok_or(format!("--profile: `{v}` is not one of {}", names.join(", ")))?;
                    c.profile = Some(p);
                }
                "--token-read-only" => c.token_read_only = true,
                "--max-msg-rate" => {
                    let v = value("messages per second")?;
                    c.max_msg_rate =
                        v.parse().map_err(|_| format!("--max-msg-rate: `{v}` is not a whole number"))?;
                }
                "--client-queue" => {
                    let v = value("a number of frames")?;
                    c.client_queue = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=100_000).contains(n))
                        .ok_or(format!("--client-queue: `{v}` is not a number from 1 to 100000"))?;
                }
                "--allow-origin" => {
                    let v = value("an origin such as http://192.168.4.1")?;
                    c.guard.allow_origins.push(v.trim_end_matches('/').to_string());
                }
                "--allow-host" => c.guard.allow_hosts.push(value("a host name such as car.local")?),
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown flag `{other}`")),
            }
        }
        if let Some(p) = c.profile {
            if let Some(flag) = shape_flags.first() {
                return Err(format!("--profile {} sets its own shape: drop {flag}", p.name()));
            }
            c.hello = false;
            c.dialect = if p.takes_words() { Dialect::Text } else { Dialect::Json };
            if !p.sends_readings() {
                c.rate_hz = 0;
            } else if !rate_given {
                c.rate_hz = p.default_rate_hz();
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
    }
}
