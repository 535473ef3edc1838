// wsdeck_core: protocol v1 for a two-motor car, in plain C++11 (docs/PROTOCOL.md).
//
// No Arduino headers, no exceptions, no RTTI, no heap: the sketch (wsdeck_car.ino) feeds it
// WebSocket events and the time, and maps motors() to PWM. The implementation is one file per part
// beside this header (wsdeck_json.cpp reads frames, wsdeck_writer.cpp writes them, wsdeck_guard.cpp
// checks handshakes, wsdeck_assembler.cpp puts split frames together, wsdeck_device.cpp is the
// car, wsdeck_controls.cpp its declared controls); the Arduino IDE compiles every .cpp in the sketch folder. The same files are compiled on
// the host by firmware/core/test (cargo xtask test, step "firmware core (g++)"), which runs every
// vector of protocol/vectors.json and the simulator's car rules (device/src/motion.rs) against them.
#ifndef WSDECK_CORE_H
#define WSDECK_CORE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

// kMaxFrameLen, kMaxTokenChars, kIdleLeaseMs, ...: the numbers shared with the Rust sources,
// generated from them by `cargo xtask limits`.
#include "wsdeck_limits.h"

namespace wsdeck {

/// Clients the device keeps track of (state frames, pairing, rate cap). When they are all
/// connected, a new connection takes the place of a silent or unpaired one (on_open says which to
/// close), or is refused. Config::max_clients may be lower.
static const size_t kMaxClients = 8;
/// A client that sent nothing for this long counts as silent (the app pings every second): it is
/// the first to make room for a new connection.
static const uint32_t kSilentMs = 3000;
/// A pairing token of kMaxTokenChars characters is at most 4x as many bytes.
static const size_t kMaxTokenBytes = 4 * kMaxTokenChars;
/// Remote addresses remembered after a wrong pairing token, each with its own wait. Once the table
/// is full, every other address shares one more wait: none is ever forgotten to make room, since
/// a forgotten address could guess again at once.
static const size_t kAddrsKept = 16;
/// WebSocket close codes the sketch uses when the core asks for a close.
static const uint16_t kClosePolicy = 1008;
static const uint16_t kCloseTooBig = 1009;
static const uint16_t kCloseUnsupported = 1003;
static const uint16_t kCloseTryLater = 1013;
/// Stops remembered (reason and time), oldest dropped first.
static const size_t kStopsKept = 8;
/// Controls a device keeps values for; declarations beyond are left out.
static const size_t kDeviceControls = 16;
/// The longest text a text or value control holds, in bytes (cut on a character boundary).
static const size_t kCtlTextBytes = 64;

// ---------------------------------------------------------------------------------------------
// Decoding frames from the app

enum class DecodeError : uint8_t {
  None,
  /// Not valid JSON (or nested deeper than kMaxDepth, or a number beyond double range).
  Json,
  /// Valid JSON but not an object with a "t" field.
  NotAnObject,
  /// A known message type with a missing, mistyped or out-of-range field.
  BadField,
  /// Longer than the configured maximum: not parsed at all.
  TooLarge,
};

/// The stable name used in test vectors and counters: "json", "not_an_object", ...
const char *error_kind(DecodeError e);

enum class MsgType : uint8_t { Ping, Drive, Stop, Claim, Release, Auth, Ctl, Unknown };

/// What a ctl frame's "v" holds.
enum class CtlType : uint8_t { None, Bool, Num, Text };

/// One decoded frame from the app. Fields not used by `type` are zero.
struct AppMsg {
  MsgType type;
  uint32_t id;   // ping
  uint32_t seq;  // drive, stop
  int16_t x, y, l, r;
  union {
    /// The pairing token (auth), UTF-8, not NUL-terminated; at most kMaxTokenChars characters.
    char token[kMaxTokenBytes];
    /// A ctl's text value, UTF-8, not NUL-terminated; cut on a character boundary to fit (the
    /// protocol crate cuts at kMaxTextLen characters: the same for ASCII).
    char text[kMaxTokenBytes];
  };
  uint16_t token_len;
  uint16_t text_len;
  /// ctl: the control's id (not NUL-terminated, 1..kMaxControlIdLen bytes) and its value.
  char ctl_id[kMaxControlIdLen];
  uint8_t ctl_id_len;
  CtlType ctl_type;
  bool on;      // CtlType::Bool
  double num;   // CtlType::Num
  /// The type name as sent, for Unknown (cut to fit; t_cut says so).
  char t[32];
  uint8_t t_len;
  bool t_cut;
};

/// Decodes one text frame exactly as wsdeck-protocol's AppMsg::decode does. Never reads outside
/// [data, data + len), never allocates; `data` need not be NUL-terminated. `max_len` bounds the
/// work: longer frames are TooLarge without being read.
DecodeError decode_app(const char *data, size_t len, AppMsg &out, size_t max_len = kMaxFrameLen);

// ---------------------------------------------------------------------------------------------
// Encoding frames to the app, in the canonical form of protocol/vectors.json

/// Appends JSON to a fixed buffer; once something does not fit, ok() is false and stays false.
/// The text is NUL-terminated whenever cap > 0.
class Writer {
 public:
  Writer(char *buf, size_t cap);
  Writer &raw(const char *s);
  Writer &raw(const char *s, size_t n);
  /// A JSON string: quotes, and escapes for `"`, `\` and control characters (as serde_json).
  Writer &str(const char *s);
  Writer &str(const char *s, size_t n);
  Writer &u32(uint32_t n);
  Writer &i64(int64_t n);
  /// Whole numbers without a fraction, others in the shortest form that reads back the same,
  /// NaN and infinities as null: the same text as the protocol crate (protocol/src/value.rs).
  Writer &num(double v);
  bool ok() const { return ok_; }
  size_t len() const { return len_; }
  const char *data() const { return buf_; }

 private:
  char *buf_;
  size_t cap_;
  size_t len_;
  bool ok_;
};

/// How the app should show one telemetry series (hello's "series"). Null strings and NaN
/// numbers are left out.
struct SeriesInfo {
  const char *name;
  const char *label;
  const char *unit;
  double min;
  double max;
  const char *group;
};

enum class ControlKind : uint8_t { Button, Toggle, Slider, Number, Select, Text, Gauge, Led, Value };
/// "button", "toggle", ...: the kind's name on the wire.
const char *control_kind_name(ControlKind k);

/// Changes a second a slider or number sends while dragged when the declaration gives no rate_hz
/// (protocol/src/control.rs DEFAULT_RATE_HZ); rate_hz is capped to 1..50.
static const double kDefaultRateHz = 20;

/// One control the device declares (docs/PROTOCOL.md, "Controls"). Set the fields its kind uses
/// after constructing it; null strings and NaN numbers are left out, and the defaults are the
/// protocol's: label = id, min 0 and max 100 (slider, number, gauge), max_len kDefaultTextLen.
struct ControlInfo {
  const char *id;
  ControlKind kind;
  const char *label;
  double min, max;  // slider, number, gauge
  double step;      // slider, number: values are min + k * step
  const char *unit; // slider, number, gauge
  const char *const *options;  // select
  size_t n_options;
  uint32_t max_len;       // text; 0: kDefaultTextLen
  double warn, alarm;     // gauge
  const char *color;      // led
  const char *group;      // controls of one group share a card
  const char *confirm;    // a question the app asks before sending
  bool disabled;
  double rate_hz;         // slider, number; NaN: kDefaultRateHz
  bool drive;             // also shown on the Drive page
  const char *series;     // gauge, led, value: follow this telemetry series
  ControlInfo(const char *id_, ControlKind kind_, const char *label_ = nullptr)
      : id(id_), kind(kind_), label(label_), min(NAN), max(NAN), step(NAN), unit(nullptr), options(nullptr),
        n_options(0), max_len(0), warn(NAN), alarm(NAN), color(nullptr), group(nullptr), confirm(nullptr),
        disabled(false), rate_hz(NAN), drive(false), series(nullptr) {}
  /// Gauge, led and value: the sketch sets them, the app only shows them.
  bool read_only() const { return kind == ControlKind::Gauge || kind == ControlKind::Led || kind == ControlKind::Value; }
  double lo() const { return isnan(min) ? 0 : min; }
  double hi() const { return isnan(max) ? 100 : max; }
  /// What an app may declare: an id of 1..kMaxControlIdLen bytes, min <= max, a select with
  /// options. The device leaves out declarations that are not (and duplicates of an id).
  bool valid() const;
};

/// Writes one declaration in canonical form (protocol/src/control.rs Control::to_value).
void write_control(Writer &w, const ControlInfo &c);

/// {"t":"hello","v":1,"name":..,"caps":[..],"watchdog_ms":..,"series":{..},"pairing":..,
/// "controls":[..]}; returns the length, 0 if it does not fit. `watchdog_ms` < 0, a null
/// `pairing` and no controls leave them out.
size_t encode_hello(char *buf, size_t cap, const char *name, const char *const *caps, size_t n_caps,
                    int64_t watchdog_ms, const SeriesInfo *series, size_t n_series,
                    const char *pairing = nullptr, const ControlInfo *const *controls = nullptr,
                    size_t n_controls = 0);
/// {"t":"controls","controls":[..]}: a new set, replacing the one from hello.
size_t encode_controls(char *buf, size_t cap, const ControlInfo *const *controls, size_t n_controls);
/// {"t":"auth","ok":true} or {"t":"auth","ok":false,"retry_ms":4000}; `retry_ms` < 0 leaves it out.
size_t encode_auth(char *buf, size_t cap, bool ok, int64_t retry_ms);
/// {"t":"pong","id":7}
size_t encode_pong(char *buf, size_t cap, uint32_t id);
/// {"t":"state","driver":3,"you":3,"armed":true,"failsafe":null}; a negative id is null.
size_t encode_state(char *buf, size_t cap, int64_t driver, int64_t you, bool armed, const char *failsafe);
/// {"t":"log","level":"warn","msg":"battery low"}
size_t encode_log(char *buf, size_t cap, const char *level, const char *msg);

/// Builds {"t":"tel","ms":123,"d":{"name":1.5,...}} in place: ms() (optional, first), add()
/// per series, then finish() returns the length (0 if it did not fit).
class TelFrame {
 public:
  TelFrame(char *buf, size_t cap);
  void ms(double device_ms);
  void add(const char *name, double value);
  size_t finish();

 private:
  Writer w_;
  bool open_;
};

/// Builds {"t":"ctl","v":{"lights":true,"pan":30}} in place: one call per control, then finish()
/// returns the length (0 if it did not fit).
class CtlFrame {
 public:
  CtlFrame(char *buf, size_t cap);
  void on(const char *id, bool value);
  void num(const char *id, double value);
  void text(const char *id, const char *s, size_t n);
  size_t finish();

 private:
  void key(const char *id);
  Writer w_;
  bool first_;
};

// ---------------------------------------------------------------------------------------------
// Who may open the control socket (docs/SECURITY.md, the rules of device/src/guard.rs)

enum class Guard : uint8_t { Ok, BadHost, BadOrigin };

/// Checks a WebSocket upgrade's Host and Origin headers (null when absent). Host must be an IP
/// address, localhost or one of `allow_hosts`; Origin, when present, must be this device's own
/// page (http:// or https:// + Host) or one of `allow_origins`.
Guard check_handshake(const char *host, const char *origin, const char *const *allow_origins,
                      size_t n_origins, const char *const *allow_hosts, size_t n_hosts);

/// Compares a pairing token with the configured one in time that depends on neither (always
/// kMaxTokenBytes steps): true when both are the same bytes. Longer inputs never match.
bool token_equal(const char *given, size_t given_len, const char *expected, size_t expected_len);

/// True when an If-None-Match header lists `etag` (quotes included) or `*`: answer 304, as the
/// simulator does (sim/src/routes.rs).
bool etag_matches(const char *if_none_match, const char *etag);

// ---------------------------------------------------------------------------------------------
// The device

/// Where the device's frames go. The sketch queues them and sends after releasing its lock.
class Outbox {
 public:
  /// Sends one text frame to `client`; false if it had to be dropped.
  virtual bool send(uint32_t client, const char *text, size_t len) = 0;

 protected:
  ~Outbox() {}
};

/// An Outbox that keeps frames in a fixed buffer until drain(f) hands each to f(client, text,
/// len). Lets the sketch run the core under a lock and send outside it.
template <size_t Bytes>
class FrameQueue : public Outbox {
 public:
  FrameQueue() : used_(0), dropped_(0) {}
  bool send(uint32_t client, const char *text, size_t len) override {
    const size_t need = 6 + len;
    if (len > 0xFFFF || need > Bytes - used_) {
      dropped_++;
      return false;
    }
    uint8_t *p = buf_ + used_;
    for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(client >> (8 * i));
    p[4] = static_cast<uint8_t>(len);
    p[5] = static_cast<uint8_t>(len >> 8);
    for (size_t i = 0; i < len; i++) p[6 + i] = static_cast<uint8_t>(text[i]);
    used_ += need;
    return true;
  }
  template <class F>
  void drain(F f) {
    size_t at = 0;
    while (at < used_) {
      const uint8_t *p = buf_ + at;
      uint32_t client = 0;
      for (int i = 0; i < 4; i++) client |= static_cast<uint32_t>(p[i]) << (8 * i);
      const size_t len = static_cast<size_t>(p[4]) | (static_cast<size_t>(p[5]) << 8);
      f(client, reinterpret_cast<const char *>(p + 6), len);
      at += 6 + len;
    }
    used_ = 0;
  }
  bool empty() const { return used_ == 0; }
  /// Frames that did not fit, since the start.
  uint32_t dropped() const { return dropped_; }

 private:
  uint8_t buf_[Bytes];
  size_t used_;
  uint32_t dropped_;
};

/// Puts text frames back together from the pieces a WebSocket library hands over one TCP segment
/// at a time (AsyncWebSocket: one WS_EVT_DATA per piece, with AwsFrameInfo's len, index, final
/// and num), into a buffer the caller owns. A frame longer than the buffer is refused from its
/// first piece, before its payload is read; fragmented messages (FIN clear, or continuation
/// frames) are refused too: the app never sends them.
class Assembler {
 public:
  enum Result : uint8_t {
    /// A whole frame: frame()/frame_len(). Points into the piece itself when the frame came in
    /// one piece (no copy), else into the buffer.
    Ready,
    /// More pieces to come.
    Pending,
    /// frame_len is over the buffer: close with kCloseTooBig.
    TooLarge,
    /// A fragmented message, or pieces that do not follow each other: close with
    /// kCloseUnsupported.
    Unsupported,
  };
  Assembler(char *buf, size_t cap)
      : buf_(buf), cap_(cap), want_(0), got_(0), busy_(false), frame_(nullptr), len_(0) {}
  /// One piece: `frame_len` is the frame's whole payload length, `index` where `piece` starts in
  /// it, `fin` the frame's FIN bit, `fragment` the message's fragment number (0 for the first).
  Result feed(uint64_t frame_len, uint64_t index, bool fin, uint32_t fragment, const char *piece, size_t n);
  const char *frame() const { return frame_; }
  size_t frame_len() const { return len_; }
  /// Forgets a partial frame (the connection closed).
  void reset() {
    got_ = 0;
    busy_ = false;
  }

 private:
  char *buf_;
  size_t cap_;
  /// The length of the frame being put together (busy_), as its first piece said.
  size_t want_;
  size_t got_;
  bool busy_;
  const char *frame_;
  size_t len_;
};

/// `json`: protocol v1. `text`: a tutorial car taking the words up, down, left, right, stop (no
/// lease, no JSON), as `wsdeck-sim --dialect text`.
enum class Dialect : uint8_t { Json, Text };

enum class Failsafe : uint8_t { None, Watchdog, DriverLeft };
/// "watchdog", "driver_left", or null for None.
const char *failsafe_name(Failsafe f);

enum class StopReason : uint8_t { StopFrame, LeasePassed, Released, DriverLeft, Watchdog };

struct StopRecord {
  StopReason reason;
  /// Who sent the stop frame (StopFrame only).
  uint32_t client;
  uint32_t at_ms;
};

/// "stop from client #3", "watchdog", ...: the simulator's words, for logs.
size_t describe_stop(const StopRecord &s, char *buf, size_t cap);

enum class PairingMode : uint8_t { Required, Control };
/// "required" or "control", as hello's "pairing" says it.
const char *pairing_name(PairingMode m);

struct Config {
  /// Shown in the app's status bar.
  const char *name;
  /// Motors stop when no drive frame came for this long (hello's watchdog_ms).
  uint32_t watchdog_ms;
  Dialect dialect;
  /// Send hello on connect (turn off to imitate older firmware).
  bool hello;
  /// Announce the telemetry capability (the sketch sends the frames).
  bool telemetry;
  /// Series descriptions for hello; may be null.
  const SeriesInfo *series;
  size_t series_count;
  /// Longer frames are counted and dropped unread, and the connection closed (kCloseTooBig);
  /// at most kMaxFrameLen.
  size_t max_frame_len;
  /// Pairing (PROTOCOL.md "Pairing"): null or "" for none, else the token the app must send (at
  /// most kMaxTokenChars characters) before this device obeys it. Json dialect only.
  const char *pairing_token;
  /// Required: an unpaired client gets hello, pong and auth answers only. Control: it also gets
  /// tel, state and log (it may watch). Either way only stop and ping are obeyed from it.
  PairingMode pairing_mode;
  /// Messages per second per client, bursts of a quarter of that (at least 10); the excess is
  /// dropped and counted, except stop; 0 for no cap.
  uint32_t max_msg_rate;
  /// Connections beyond this many are refused; at most kMaxClients.
  size_t max_clients;
  /// The controls to declare in hello (docs/PROTOCOL.md, "Controls"); may be null. The array
  /// must outlive the Device. Invalid ones, duplicates and those beyond kDeviceControls are left
  /// out. Json dialect only.
  const ControlInfo *controls;
  size_t control_count;

  Config()
      : name("wsdeck car"),
        watchdog_ms(300),
        dialect(Dialect::Json),
        hello(true),
        telemetry(true),
        series(nullptr),
        series_count(0),
        max_frame_len(kMaxFrameLen),
        pairing_token(nullptr),
        pairing_mode(PairingMode::Required),
        max_msg_rate(200),
        max_clients(kMaxClients),
        controls(nullptr),
        control_count(0) {}
};

/// Wheel commands, -1000..1000 each: duty = |l| * max / 1000, direction from the sign.
struct Motors {
  int16_t l;
  int16_t r;
};

struct Stats {
  uint32_t frames;          // text frames from the app
  uint32_t pings_answered;
  uint32_t bad_frames;      // could not be decoded (or not a word, in the text dialect)
  uint32_t too_large;       // longer than max_frame_len, not read
  uint32_t unknown_types;   // valid frames of a type this version does not know
  uint32_t ignored_drives;  // from a non-driver, or not newer than the last
  uint32_t binary_frames;
  uint32_t refused_clients; // on_open with max_clients already connected, none silent or unpaired
  uint32_t evicted_clients; // silent or unpaired clients that made room for a new connection
  uint32_t rate_limited;    // dropped for being over the message rate cap
  uint32_t closed_for_abuse;// over the rate cap for kAbuseSeconds: closed with 1008
  uint32_t unpaired;        // drive, claim or release from a client not paired: ignored
  uint32_t auth_ok;         // right tokens
  uint32_t auth_refused;    // wrong tokens (each one doubles its address's wait)
  uint32_t auth_locked;     // tokens sent while their address had to wait: not looked at
  uint32_t ctl_applied;     // ctl frames taken (the value may be the one it had)
  uint32_t ctl_refused;     // ctl for no declared control, a read-only one, or a wrong value
  uint32_t buttons_released;// held buttons let go because their client disconnected
};

/// The car of device/src/motion.rs behind the frames of device/src/lib.rs (Device::frame): one
/// driver at a time, a watchdog, and every stop remembered. Not thread-safe: call it from one
/// task, or under one lock. Times are millis() and may wrap (differences are taken mod 2^32);
/// a time earlier than one already seen counts as that time.
class Device {
 public:
  explicit Device(const Config &config);

  /// A client connected from `remote` (any key for its address, e.g. the IPv4 address as a
  /// number: wrong pairing tokens are counted per address): sends it hello, its state (json
  /// dialect) and a greeting log line. When max_clients are connected already, the client silent
  /// longest (nothing for kSilentMs) or else, with pairing, the unpaired one connected longest
  /// makes room: it is forgotten (as if it had closed) and `*evicted` says which one to close
  /// (kClosePolicy, "evicted"); 0 when none was. Returns false when nobody could make room: close
  /// that connection (kCloseTryLater). Squatters that never pair or never speak cannot lock the
  /// owner's phone out (issue #13 item 4).
  bool on_open(uint32_t client, uint64_t remote, uint32_t now_ms, Outbox &out, uint32_t *evicted = nullptr);
  /// The same, for a client whose address is not known (all such clients share one address).
  bool on_open(uint32_t client, uint32_t now_ms, Outbox &out) { return on_open(client, 0, now_ms, out); }
  /// One complete text frame. Returns why it could not be decoded (None when it was, or when it
  /// was dropped by the rate cap). Afterwards, ask close_wanted(): the client may have broken a
  /// limit. Frames from a client that was never opened (or refused) are taken as from an
  /// unpaired client without a rate cap.
  DecodeError on_frame(uint32_t client, const char *data, size_t len, uint32_t now_ms, Outbox &out);
  /// A frame longer than max_frame_len, refused from its header: counted, and close_wanted()
  /// says kCloseTooBig.
  void on_too_large(uint32_t client);
  /// Binary frames are not part of the protocol: counted and ignored (they count against the
  /// rate cap, as in the simulator).
  void on_binary(uint32_t client, uint32_t now_ms);
  /// Whether the core wants this connection closed, with which code and reason (a text for the
  /// close frame): kCloseTooBig after a frame over max_frame_len, kClosePolicy after seconds on
  /// end over the rate cap.
  bool close_wanted(uint32_t client, uint16_t &code, const char *&reason) const;
  /// Whether `client` may be sent tel (and the sketch's own log lines): false for a client that
  /// has not paired when pairing is Required. The core filters its own state and log frames.
  bool may_receive_telemetry(uint32_t client) const;
  /// Whether `client` sent the right pairing token (always true without pairing).
  bool paired(uint32_t client) const;
  /// How long tokens from `remote` are not looked at, from now_ms (0: not locked out).
  uint32_t auth_wait_ms(uint64_t remote, uint32_t now_ms) const;
  /// The connection closed (or vanished): a leaving driver stops the car.
  void on_close(uint32_t client, uint32_t now_ms, Outbox &out);
  /// Runs the watchdog; call it often (every loop(), or at least every few ms).
  void tick(uint32_t now_ms, Outbox &out);

  Motors motors() const;
  bool armed() const { return armed_; }
  bool moving() const { return cmd_l_ != 0 || cmd_r_ != 0; }
  bool has_driver() const { return has_driver_; }
  uint32_t driver() const { return driver_; }
  Failsafe failsafe() const { return failsafe_; }
  const Stats &stats() const { return stats_; }
  size_t client_count() const { return n_clients_; }
  bool pairing() const { return pairing_; }
  const Config &config() const { return config_; }
  /// Stops since the start, and the i-th of the kept ones (0 = oldest kept).
  uint32_t stop_count() const { return stops_total_; }
  size_t stops_kept() const;
  StopRecord stop(size_t i) const;

  /// Controls (docs/PROTOCOL.md, "Controls"): the declared ones kept, in order; the index is
  /// the one the getters below take too, or find it by id (-1: none).
  size_t control_count() const { return n_controls_; }
  const ControlInfo &control(size_t i) const { return *controls_[i < n_controls_ ? i : 0]; }
  int control_index(const char *id) const;
  /// A control's value: on/off (button, toggle, led), a number (slider, number, gauge), the
  /// chosen option (select) or the text (text, value; not NUL-terminated, `*len` bytes). False,
  /// NaN or null when `id` is not such a control.
  bool control_on(const char *id) const;
  double control_num(const char *id) const;
  const char *control_text(const char *id, size_t *len = nullptr) const;
  /// Increases with every change of any control's value: compare to act on changes.
  uint32_t control_changes() const { return control_changes_; }
  /// The sketch sets a value (a gauge's reading, a led, a value's text, or a toggle flipped by a
  /// switch on the car): checked as a ctl from an app is, then sent to every client. False when
  /// `id` is no control or the value is wrong for its kind.
  bool set_control_on(const char *id, bool on, Outbox &out);
  bool set_control_num(const char *id, double v, Outbox &out);
  bool set_control_text(const char *id, const char *s, Outbox &out);

  /// The frames this device sends, for the sketch's own use (e.g. a status page).
  size_t encode_hello(char *buf, size_t cap) const;
  /// {"t":"ctl","v":{..}} with every control's value (`only` < 0) or one.
  size_t encode_ctl(char *buf, size_t cap, int only = -1) const;
  size_t encode_state_for(uint32_t client, char *buf, size_t cap) const;

 private:
  struct Snapshot {
    bool has_driver;
    uint32_t driver;
    bool armed;
    Failsafe failsafe;
  };
  Snapshot snapshot() const;
  void after_change(const Snapshot &before, Outbox &out);
  uint32_t clock(uint32_t now_ms);
  void send_frame(uint32_t client, size_t len, Outbox &out);

  /// What the device knows of one connection.
  struct Client {
    uint32_t id;
    uint64_t remote;
    bool paired;
    uint16_t close_code;  // 0: keep open
    const char *close_reason;
    uint32_t opened_ms;
    uint32_t seen_ms;  // the last frame of any kind
    // The rate cap (device/src/limits.rs RateCap), in thousandths of a message.
    uint32_t tokens;
    uint32_t last_ms;
    uint32_t window_start_ms;
    bool dropped_in_window;
    uint32_t strikes;
  };
  /// Wrong tokens from one remote address.
  struct Lockout {
    uint64_t remote;
    uint32_t failures;
    uint32_t since_ms;  // when the last wrong token came
    uint32_t wait_ms;   // how long after it tokens are not looked at
  };
  Client *find(uint32_t client);
  const Client *find(uint32_t client) const;
  const Lockout *lockout(uint64_t remote) const;
  /// Who makes room for a new connection when all places are taken (see on_open), or null.
  const Client *eviction_candidate(uint32_t now) const;
  enum Verdict : uint8_t { kProcess, kDrop, kClose };
  Verdict rate_check(Client &c, uint32_t now, bool stop);
  void auth(uint32_t client, const AppMsg &m, uint32_t now, Outbox &out);
  /// Sends tel, state or log to `client` only when it may have them (pairing Required).
  bool may_watch(uint32_t client) const;

  // Controls.
  struct ControlValue {
    bool on;
    double num;
    uint8_t option;
    uint8_t text_len;
    char text[kCtlTextBytes];
    /// Button: who pressed it last (released when that client disconnects).
    uint32_t holder;
  };
  void ctl(uint32_t client, const AppMsg &m, Outbox &out);
  /// Applies a value to control i as Control::accept does (protocol/src/control.rs); false when
  /// it is wrong for the kind.
  bool accept(size_t i, CtlType type, bool on, double num, const char *text, size_t text_len);
  /// Sends control i's value (-1: all) to every client that may watch.
  void broadcast_ctl(int i, Outbox &out);
  void send_ctl(uint32_t client, Outbox &out);
  /// A client left: the buttons it held are let go.
  void release_buttons(uint32_t client, Outbox &out);
  /// Takes the valid declarations of config_ (the constructor).
  void keep_controls();

  // The car (device/src/motion.rs).
  bool drive(uint32_t client, const AppMsg &m, uint32_t now);
  void drive_words(int16_t l, int16_t r, uint32_t now);
  void stop_car(uint32_t client, uint32_t seq, uint32_t now);
  bool claim(uint32_t client, uint32_t now);
  void release(uint32_t client, uint32_t now);
  void disconnected(uint32_t client, uint32_t now);
  void take_lease(uint32_t client, uint32_t now);
  void halt(StopReason reason, uint32_t client, uint32_t now);

  Config config_;
  int16_t cmd_l_;
  int16_t cmd_r_;
  bool armed_;
  bool has_driver_;
  uint32_t driver_;
  Failsafe failsafe_;
  uint32_t last_command_ms_;
  uint32_t driver_seen_ms_;
  bool has_last_seq_;
  uint32_t last_seq_;
  bool has_time_;
  uint32_t last_now_;

  Client clients_[kMaxClients];
  size_t n_clients_;
  bool pairing_;
  size_t token_len_;
  uint32_t burst_milli_;
  Lockout lockouts_[kAddrsKept];
  size_t n_lockouts_;
  /// Wrong tokens from every address the table had no room for, counted as from one address: with
  /// more addresses than the table holds in rotation, guessing is no faster than with 17.
  Lockout overflow_;
  StopRecord stops_[kStopsKept];
  uint32_t stops_total_;
  const ControlInfo *controls_[kDeviceControls];
  ControlValue values_[kDeviceControls];
  size_t n_controls_;
  uint32_t control_changes_;
  Stats stats_;
  /// Every frame is encoded here before it goes to the Outbox: no heap, no big stack frames.
  char scratch_[1024];
};

/// The text dialect's words (device/src/words.rs): false if `data` is not one.
bool words_to_wheels(const char *data, size_t len, int16_t &l, int16_t &r);

}  // namespace wsdeck

#endif  // WSDECK_CORE_H
