// wsdeck_device: the car of device/src/motion.rs behind the frames of the simulator's dispatch (Device,
// see wsdeck_core.h): lease, watchdog, pairing with per-address backoff, the rate cap. When the
// simulator's rules change, change these (the host tests run its cases against this file).
#include <string.h>

#include "wsdeck_core.h"
#include "wsdeck_text.h"

namespace wsdeck {

using text::equal_nocase;
using text::Span;
using text::trimmed;

// ---------------------------------------------------------------------------------------------
// The car (device/src/motion.rs) and its frames (device/src/lib.rs Device::frame, sim/src/ws.rs)

const char *pairing_name(PairingMode m) { return m == PairingMode::Control ? "control" : "required"; }

const char *failsafe_name(Failsafe f) {
  switch (f) {
    case Failsafe::Watchdog: return "watchdog";
    case Failsafe::DriverLeft: return "driver_left";
    case Failsafe::None: break;
  }
  return nullptr;
}

size_t describe_stop(const StopRecord &s, char *buf, size_t cap) {
  Writer w(buf, cap);
  switch (s.reason) {
    case StopReason::StopFrame: w.raw("stop from client #").u32(s.client); break;
    case StopReason::LeasePassed: w.raw("lease passed to another client"); break;
    case StopReason::Released: w.raw("driver released"); break;
    case StopReason::DriverLeft: w.raw("driver disconnected"); break;
    case StopReason::Watchdog: w.raw("watchdog"); break;
  }
  return w.ok() ? w.len() : 0;
}

bool words_to_wheels(const char *data, size_t len, int16_t &l, int16_t &r) {
  const Span s = trimmed(Span{data ? data : "", data ? len : 0});
  struct Word {
    const char *word;
    int16_t l, r;
  };
  static const Word kWords[] = {
      {"up", kFull, kFull},      {"forward", kFull, kFull},   {"f", kFull, kFull},
      {"down", -kFull, -kFull},  {"back", -kFull, -kFull},    {"backward", -kFull, -kFull},
      {"b", -kFull, -kFull},     {"left", -kFull, kFull},     {"l", -kFull, kFull},
      {"right", kFull, -kFull},  {"r", kFull, -kFull},        {"stop", 0, 0},
      {"s", 0, 0},
  };
  for (size_t i = 0; i < sizeof kWords / sizeof kWords[0]; i++) {
    if (equal_nocase(s, kWords[i].word, strlen(kWords[i].word))) {
      l = kWords[i].l;
      r = kWords[i].r;
      return true;
    }
  }
  return false;
}

Device::Device(const Config &config)
    : config_(config),
      cmd_l_(0),
      cmd_r_(0),
      armed_(false),
      has_driver_(false),
      driver_(0),
      failsafe_(Failsafe::None),
      last_command_ms_(0),
      driver_seen_ms_(0),
      has_last_seq_(false),
      last_seq_(0),
      has_time_(false),
      last_now_(0),
      n_clients_(0),
      pairing_(false),
      token_len_(0),
      burst_milli_(0),
      n_lockouts_(0),
      stops_total_(0),
      n_controls_(0),
      control_changes_(0) {
  if (config_.max_frame_len > kMaxFrameLen) config_.max_frame_len = kMaxFrameLen;
  if (config_.max_clients > kMaxClients || config_.max_clients == 0) config_.max_clients = kMaxClients;
  if (config_.max_msg_rate > 1000000) config_.max_msg_rate = 1000000;
  // A burst of a quarter second's worth, at least 10 (device/src/limits.rs), in thousandths.
  burst_milli_ = config_.max_msg_rate * 250 > 10000 ? config_.max_msg_rate * 250 : 10000;
  // Pairing needs JSON frames: the text dialect has no way to send a token.
  pairing_ = config_.pairing_token != nullptr && config_.pairing_token[0] != '\0' && config_.dialect == Dialect::Json;
  token_len_ = pairing_ ? strlen(config_.pairing_token) : 0;
  memset(clients_, 0, sizeof clients_);
  memset(lockouts_, 0, sizeof lockouts_);
  memset(&overflow_, 0, sizeof overflow_);
  memset(stops_, 0, sizeof stops_);
  memset(&stats_, 0, sizeof stats_);
  scratch_[0] = '\0';
  keep_controls();
}

uint32_t Device::clock(uint32_t now_ms) {
  // A caller that read millis() before waiting for its lock may hand in a time older than one
  // already used; time never runs backwards here.
  if (has_time_ && static_cast<int32_t>(now_ms - last_now_) < 0) return last_now_;
  has_time_ = true;
  last_now_ = now_ms;
  return now_ms;
}

Motors Device::motors() const {
  Motors m = {cmd_l_, cmd_r_};
  return m;
}

size_t Device::stops_kept() const { return stops_total_ < kStopsKept ? stops_total_ : kStopsKept; }

StopRecord Device::stop(size_t i) const {
  const size_t kept = stops_kept();
  if (kept == 0) {
    StopRecord none = {StopReason::StopFrame, 0, 0};
    return none;
  }
  const size_t first = stops_total_ - kept;  // index (since the start) of the oldest kept
  return stops_[(first + (i < kept ? i : kept - 1)) % kStopsKept];
}

size_t Device::encode_hello(char *buf, size_t cap) const {
  static const char *const kCaps[] = {"drive", "telemetry"};
  const size_t n_caps = config_.telemetry ? 2 : 1;
  const char *pairing = pairing_ ? pairing_name(config_.pairing_mode) : nullptr;
  size_t n = wsdeck::encode_hello(buf, cap, config_.name, kCaps, n_caps, config_.watchdog_ms, config_.series,
                                  config_.series_count, pairing, controls_, n_controls_);
  // Series that do not fit are left out rather than the whole hello, then the controls.
  if (n == 0) {
    n = wsdeck::encode_hello(buf, cap, config_.name, kCaps, n_caps, config_.watchdog_ms, nullptr, 0, pairing,
                             controls_, n_controls_);
  }
  if (n == 0) n = wsdeck::encode_hello(buf, cap, config_.name, kCaps, n_caps, config_.watchdog_ms, nullptr, 0, pairing);
  return n;
}

size_t Device::encode_state_for(uint32_t client, char *buf, size_t cap) const {
  return encode_state(buf, cap, has_driver_ ? static_cast<int64_t>(driver_) : -1, client, armed_,
                      failsafe_name(failsafe_));
}

void Device::send_frame(uint32_t client, size_t len, Outbox &out) {
  if (len > 0) out.send(client, scratch_, len);
}

Device::Client *Device::find(uint32_t client) {
  for (size_t i = 0; i < n_clients_; i++) {
    if (clients_[i].id == client) return &clients_[i];
  }
  return nullptr;
}

const Device::Client *Device::find(uint32_t client) const {
  for (size_t i = 0; i < n_clients_; i++) {
    if (clients_[i].id == client) return &clients_[i];
  }
  return nullptr;
}

bool Device::paired(uint32_t client) const {
  const Client *c = find(client);
  return c ? c->paired : !pairing_;
}

bool Device::may_watch(uint32_t client) const {
  return !pairing_ || config_.pairing_mode == PairingMode::Control || paired(client);
}

bool Device::may_receive_telemetry(uint32_t client) const { return may_watch(client); }

bool Device::close_wanted(uint32_t client, uint16_t &code, const char *&reason) const {
  const Client *c = find(client);
  if (c == nullptr || c->close_code == 0) return false;
  code = c->close_code;
  reason = c->close_reason;
  return true;
}

const Device::Client *Device::eviction_candidate(uint32_t now) const {
  const Client *silent = nullptr;
  const Client *unpaired = nullptr;
  for (size_t i = 0; i < n_clients_; i++) {
    const Client &c = clients_[i];
    if (now - c.seen_ms >= kSilentMs && (!silent || now - c.seen_ms > now - silent->seen_ms)) silent = &c;
    if (!c.paired && (!unpaired || now - c.opened_ms > now - unpaired->opened_ms)) unpaired = &c;
  }
  return silent ? silent : unpaired;
}

bool Device::on_open(uint32_t client, uint64_t remote, uint32_t now_ms, Outbox &out, uint32_t *evicted) {
  const uint32_t now = clock(now_ms);
  if (evicted) *evicted = 0;
  Client *c = find(client);
  if (c == nullptr) {
    if (n_clients_ >= config_.max_clients) {
      const Client *v = eviction_candidate(now);
      if (v == nullptr) {
        stats_.refused_clients++;
        return false;
      }
      // Forgotten as if it had closed (a driver among them stops the car); the sketch closes it.
      const uint32_t id = v->id;
      stats_.evicted_clients++;
      if (evicted) *evicted = id;
      on_close(id, now, out);
    }
    c = &clients_[n_clients_++];
    memset(c, 0, sizeof *c);
    c->id = client;
    c->opened_ms = now;
    c->tokens = burst_milli_;
    c->last_ms = now;
    c->window_start_ms = now;
  }
  c->seen_ms = now;
  c->remote = remote;
  c->paired = !pairing_;
  if (config_.hello) send_frame(client, encode_hello(scratch_, sizeof scratch_), out);
  // With pairing Required, an unpaired client gets its state when it pairs, and no log.
  if (!may_watch(client)) return true;
  if (config_.dialect == Dialect::Json) {
    send_frame(client, encode_state_for(client, scratch_, sizeof scratch_), out);
    // Every control's value, so that a new phone shows what the others see.
    send_ctl(client, out);
  }
  char msg[64];
  Writer m(msg, sizeof msg);
  m.raw("wsdeck: you are client #").u32(client).raw(" (").u32(static_cast<uint32_t>(n_clients_));
  m.raw(" connected)");
  send_frame(client, encode_log(scratch_, sizeof scratch_, "info", msg), out);
  return true;
}

void Device::on_binary(uint32_t client, uint32_t now_ms) {
  const uint32_t now = clock(now_ms);
  stats_.binary_frames++;
  Client *c = find(client);
  if (c) c->seen_ms = now;
  if (c) rate_check(*c, now, false);
}

void Device::on_too_large(uint32_t client) {
  stats_.too_large++;
  Client *c = find(client);
  if (c && c->close_code == 0) {
    c->close_code = kCloseTooBig;
    c->close_reason = "frame too large";
  }
}

Device::Verdict Device::rate_check(Client &c, uint32_t now, bool stop) {
  // device/src/limits.rs RateCap::check, in integers: tokens are thousandths of a message.
  const uint32_t rate = config_.max_msg_rate;
  if (rate == 0) return kProcess;
  const uint32_t elapsed = now - c.last_ms;
  c.last_ms = now;
  const uint64_t refilled = static_cast<uint64_t>(c.tokens) + static_cast<uint64_t>(elapsed) * rate;
  c.tokens = refilled < burst_milli_ ? static_cast<uint32_t>(refilled) : burst_milli_;
  const uint32_t since = now - c.window_start_ms;
  if (since >= 1000) {
    // A quiet second in between (or a second without drops) forgives.
    c.strikes = (since < 2000 && c.dropped_in_window) ? c.strikes + 1 : 0;
    c.window_start_ms = now;
    c.dropped_in_window = false;
  }
  if (c.tokens >= 1000) {
    c.tokens -= 1000;
    return kProcess;
  }
  // A stop is never dropped: a flood cannot keep anyone's STOP from working.
  if (stop) return kProcess;
  stats_.rate_limited++;
  c.dropped_in_window = true;
  if (c.strikes < kAbuseSeconds) return kDrop;
  if (c.close_code == 0) {
    stats_.closed_for_abuse++;
    c.close_code = kClosePolicy;
    c.close_reason = "message rate over the cap for seconds on end";
  }
  return kClose;
}

DecodeError Device::on_frame(uint32_t client, const char *data, size_t len, uint32_t now_ms, Outbox &out) {
  const uint32_t now = clock(now_ms);
  stats_.frames++;
  if (len > config_.max_frame_len) {
    on_too_large(client);
    return DecodeError::TooLarge;
  }
  Client *c = find(client);
  if (c) c->seen_ms = now;
  const Snapshot before = snapshot();
  if (config_.dialect == Dialect::Text) {
    // A tutorial car: a word per frame, no JSON, no lease.
    int16_t l = 0, r = 0;
    const bool word = words_to_wheels(data, len, l, r);
    if (c && rate_check(*c, now, word && l == 0 && r == 0) != kProcess) return DecodeError::None;
    if (!word) {
      stats_.bad_frames++;
      return DecodeError::Json;
    }
    drive_words(l, r, now);
    after_change(before, out);
    return DecodeError::None;
  }
  AppMsg m;
  const DecodeError e = decode_app(data, len, m, config_.max_frame_len);
  // Over the rate cap: dropped (the frame was read, but nothing it asks for is done), unless
  // it is a stop.
  if (c && rate_check(*c, now, e == DecodeError::None && m.type == MsgType::Stop) != kProcess) {
    return DecodeError::None;
  }
  if (e != DecodeError::None) {
    stats_.bad_frames++;
    return e;
  }
  const bool obeyed = c ? c->paired : !pairing_;
  switch (m.type) {
    case MsgType::Ping:
      stats_.pings_answered++;
      send_frame(client, encode_pong(scratch_, sizeof scratch_, m.id), out);
      break;
    case MsgType::Drive:
      if (!obeyed) {
        stats_.unpaired++;
        stats_.ignored_drives++;
        break;
      }
      if (!drive(client, m, now)) stats_.ignored_drives++;
      after_change(before, out);
      break;
    case MsgType::Stop:
      // Obeyed paired or not: stopping is never harmful.
      stop_car(client, m.seq, now);
      after_change(before, out);
      break;
    case MsgType::Claim:
      if (!obeyed) {
        stats_.unpaired++;
        break;
      }
      claim(client, now);
      after_change(before, out);
      // Granted or not, the client learns who drives.
      send_frame(client, encode_state_for(client, scratch_, sizeof scratch_), out);
      break;
    case MsgType::Release:
      if (!obeyed) {
        stats_.unpaired++;
        break;
      }
      release(client, now);
      after_change(before, out);
      break;
    case MsgType::Auth: auth(client, m, now, out); break;
    case MsgType::Ctl:
      if (!obeyed) {
        stats_.unpaired++;
        break;
      }
      ctl(client, m, out);
      break;
    case MsgType::Unknown: stats_.unknown_types++; break;
  }
  return DecodeError::None;
}

const Device::Lockout *Device::lockout(uint64_t remote) const {
  for (size_t i = 0; i < n_lockouts_; i++) {
    if (lockouts_[i].remote == remote) return &lockouts_[i];
  }
  // An address the full table has no room for waits with all the others like it.
  return n_lockouts_ == kAddrsKept ? &overflow_ : nullptr;
}

uint32_t Device::auth_wait_ms(uint64_t remote, uint32_t now_ms) const {
  const Lockout *l = lockout(remote);
  if (l == nullptr) return 0;
  const uint32_t since = now_ms - l->since_ms;
  return since < l->wait_ms ? l->wait_ms - since : 0;
}

void Device::auth(uint32_t client, const AppMsg &m, uint32_t now, Outbox &out) {
  if (!pairing_) {
    // Nothing to check: any token (an app that remembered one) is fine.
    send_frame(client, encode_auth(scratch_, sizeof scratch_, true, -1), out);
    return;
  }
  Client *c = find(client);
  const uint64_t remote = c ? c->remote : 0;
  Lockout *l = const_cast<Lockout *>(lockout(remote));
  const uint32_t wait = auth_wait_ms(remote, now);
  if (wait > 0) {
    // Not looked at: the same answer with the time left.
    stats_.auth_locked++;
    send_frame(client, encode_auth(scratch_, sizeof scratch_, false, wait), out);
    return;
  }
  if (token_equal(m.token, m.token_len, config_.pairing_token, token_len_)) {
    stats_.auth_ok++;
    // A right token forgets the address's wrong ones (not the shared wait of the addresses the
    // table has no room for: the others still wait).
    if (l && l != &overflow_) *l = lockouts_[--n_lockouts_];
    const bool was_paired = c && c->paired;
    if (c) c->paired = true;
    send_frame(client, encode_auth(scratch_, sizeof scratch_, true, -1), out);
    // A client that could not watch gets the state it missed on connect.
    if (c && !was_paired && config_.pairing_mode == PairingMode::Required) {
      send_frame(client, encode_state_for(client, scratch_, sizeof scratch_), out);
      send_ctl(client, out);
    }
    return;
  }
  stats_.auth_refused++;
  if (l == nullptr) {
    // lockout() returns the shared wait once the table is full, so there is room here.
    l = &lockouts_[n_lockouts_++];
    l->remote = remote;
    l->failures = 0;
  }
  if (l->failures < 32) l->failures++;
  // 1 s, 2 s, 4 s, ... 32 s, then 60 s.
  l->wait_ms = l->failures > 6 ? kAuthMaxBackoffMs : kAuthFirstBackoffMs << (l->failures - 1);
  if (l->wait_ms > kAuthMaxBackoffMs) l->wait_ms = kAuthMaxBackoffMs;
  l->since_ms = now;
  send_frame(client, encode_auth(scratch_, sizeof scratch_, false, l->wait_ms), out);
}

void Device::on_close(uint32_t client, uint32_t now_ms, Outbox &out) {
  const uint32_t now = clock(now_ms);
  for (size_t i = 0; i < n_clients_; i++) {
    if (clients_[i].id == client) {
      clients_[i] = clients_[--n_clients_];
      break;
    }
  }
  const Snapshot before = snapshot();
  disconnected(client, now);
  after_change(before, out);
  // A horn, a pump or a winch never stays on because the phone holding it went away.
  release_buttons(client, out);
}

void Device::tick(uint32_t now_ms, Outbox &out) {
  const uint32_t now = clock(now_ms);
  const Snapshot before = snapshot();
  if (armed_ && now - last_command_ms_ > config_.watchdog_ms) {
    halt(StopReason::Watchdog, 0, now);
    failsafe_ = Failsafe::Watchdog;
  }
  after_change(before, out);
}

Device::Snapshot Device::snapshot() const {
  Snapshot s = {has_driver_, driver_, armed_, failsafe_};
  return s;
}

void Device::after_change(const Snapshot &b, Outbox &out) {
  const bool changed = b.has_driver != has_driver_ || (has_driver_ && b.driver != driver_) ||
                       b.armed != armed_ || b.failsafe != failsafe_;
  // Every client gets its own copy ("you" differs). The text dialect has no state frames.
  if (!changed || config_.dialect != Dialect::Json) return;
  for (size_t i = 0; i < n_clients_; i++) {
    const uint32_t id = clients_[i].id;
    if (may_watch(id)) send_frame(id, encode_state_for(id, scratch_, sizeof scratch_), out);
  }
}

bool Device::drive(uint32_t client, const AppMsg &m, uint32_t now) {
  // A client that drives while nobody holds the lease takes it.
  if (!has_driver_) take_lease(client, now);
  if (driver_ != client || (has_last_seq_ && m.seq <= last_seq_)) return false;
  has_last_seq_ = true;
  last_seq_ = m.seq;
  driver_seen_ms_ = now;
  cmd_l_ = m.l;
  cmd_r_ = m.r;
  armed_ = true;
  failsafe_ = Failsafe::None;
  last_command_ms_ = now;
  return true;
}

void Device::drive_words(int16_t l, int16_t r, uint32_t now) {
  // As the simulator: even "stop" arms, and the watchdog then records a stop after watchdog_ms.
  cmd_l_ = l;
  cmd_r_ = r;
  armed_ = true;
  failsafe_ = Failsafe::None;
  last_command_ms_ = now;
}

void Device::stop_car(uint32_t client, uint32_t seq, uint32_t now) {
  // Obeyed from any client, whatever its seq: a watcher's STOP is a safety feature.
  if (has_driver_ && driver_ == client) {
    driver_seen_ms_ = now;
    last_seq_ = (has_last_seq_ && last_seq_ > seq) ? last_seq_ : seq;
    has_last_seq_ = true;
  }
  halt(StopReason::StopFrame, client, now);
  failsafe_ = Failsafe::None;
}

bool Device::claim(uint32_t client, uint32_t now) {
  if (has_driver_ && driver_ == client) return true;
  const bool idle = now - driver_seen_ms_ >= kIdleLeaseMs;
  if (has_driver_ && !idle) return false;
  if (has_driver_) halt(StopReason::LeasePassed, 0, now);
  take_lease(client, now);
  return true;
}

void Device::release(uint32_t client, uint32_t now) {
  if (has_driver_ && driver_ == client) {
    has_driver_ = false;
    halt(StopReason::Released, 0, now);
  }
}

void Device::disconnected(uint32_t client, uint32_t now) {
  if (has_driver_ && driver_ == client) {
    has_driver_ = false;
    if (moving() || armed_) {
      halt(StopReason::DriverLeft, 0, now);
      failsafe_ = Failsafe::DriverLeft;
    }
  }
}

void Device::take_lease(uint32_t client, uint32_t now) {
  has_driver_ = true;
  driver_ = client;
  driver_seen_ms_ = now;
  has_last_seq_ = false;
}

void Device::halt(StopReason reason, uint32_t client, uint32_t now) {
  cmd_l_ = 0;
  cmd_r_ = 0;
  armed_ = false;
  StopRecord &s = stops_[stops_total_ % kStopsKept];
  s.reason = reason;
  s.client = client;
  s.at_ms = now;
  stops_total_++;
}
}  // namespace wsdeck
