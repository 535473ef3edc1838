// A libFuzzer target for the firmware core: one input drives the frame assembler, the JSON reader
// and two devices (one without pairing, one with), the way wsdeck_car.ino drives them from
// AsyncWebSocket's events. Any read or write out of bounds, any undefined behaviour (under ASan
// and UBSan) or a broken invariant below aborts.
//
// Built two ways (xtask/src/firmware.rs):
// - `cargo xtask bench --only fuzz`: clang++ -fsanitize=fuzzer,address,undefined, run for
//   --fuzz-secs against the seeds made from protocol/vectors.json;
// - `cargo xtask test`, step "firmware core (g++)": g++ with standin.cpp, a fixed-seed mutation
//   loop over the same seeds that takes a few seconds.
//
// An input is a frame, optionally followed by 0xFF (never a byte of UTF-8) and a script of 6-byte
// steps [op, a, lo, hi, idx, flags]:
//   op % 4 == 0  the next min(a, rest) bytes of the frame go to the assembler as one piece: its
//                frame length is the frame's (or lo | hi << 8 with flags & 1), its index where the
//                last piece ended (or idx with flags & 2), FIN set (clear with flags & 4), fragment
//                0 (1 with flags & 8); a Ready frame goes to both devices from client a % 4.
//   op % 4 == 1  the clock moves a * 8 ms, and both devices tick.
//   op % 4 == 2  client a % 4 closes (flags & 1) or opens from remote address lo % 3.
//   op % 4 == 3  client a % 4 sends a binary frame (flags & 1) or one over the frame limit.
// Without a script the frame goes to both devices whole, and to the assembler in two pieces.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsdeck_core.h"

using namespace wsdeck;

namespace {

/// The assembler's buffer: small, so that pieces cross its end often.
const size_t kAssemblyCap = 64;
const uint8_t kScriptMark = 0xFF;

struct Discard : Outbox {
  bool send(uint32_t, const char *, size_t) override { return true; }
};

void fail(const char *what) {
  fprintf(stderr, "core_fuzz: invariant broken: %s\n", what);
  abort();
}

/// The controls of the vectors' frames (ctl: lights, pan, profile), so that mutations reach every
/// kind's checks.
const char *const kProfiles[] = {"eco", "sport"};
ControlInfo control(const char *id, ControlKind kind) {
  ControlInfo c(id, kind);
  if (kind == ControlKind::Slider) c.min = -90, c.max = 90, c.step = 5;
  if (kind == ControlKind::Select) c.options = kProfiles, c.n_options = 2;
  if (kind == ControlKind::Text) c.max_len = 8;
  return c;
}
const ControlInfo kControls[] = {
    control("lights", ControlKind::Toggle), control("horn", ControlKind::Button),
    control("pan", ControlKind::Slider),    control("profile", ControlKind::Select),
    control("msg", ControlKind::Text),      control("battery", ControlKind::Gauge),
};

/// What must hold after every event, whatever the input.
void check(const Device &d) {
  const double pan = d.control_num("pan");
  if (!(pan >= -90 && pan <= 90) || fmod(pan, 5) != 0) fail("the slider off its range or its step");
  size_t n = 0;
  if (d.control_text("profile", &n) == nullptr || n == 0) fail("the select holds no option");
  const char *msg = d.control_text("msg", &n);
  size_t chars = 0;
  for (size_t i = 0; i < n; i++) chars += (static_cast<unsigned char>(msg[i]) & 0xC0) != 0x80;
  if (chars > 8) fail("a text longer than its max_len");
  const Motors m = d.motors();
  if (m.l < -kFull || m.l > kFull || m.r < -kFull || m.r > kFull) fail("a wheel command out of range");
  if (d.moving() && !d.armed()) fail("moving while not armed");
  if (d.moving() && !d.paired(d.driver())) fail("moving for a client that has not paired");
  if (d.client_count() > d.config().max_clients) fail("more clients than max_clients");
}

struct Rig {
  Config plain_cfg;
  Config paired_cfg;
  Device plain;
  Device paired;
  Discard out;
  uint32_t now;

  static Config plain_config() {
    Config c;
    c.max_frame_len = 4096;
    c.controls = kControls;
    c.control_count = sizeof kControls / sizeof kControls[0];
    return c;
  }
  static Config paired_config() {
    Config c = plain_config();
    c.pairing_token = "blue-tiger-42";  // the token of the vectors' auth frame
    c.pairing_mode = PairingMode::Required;
    return c;
  }
  Rig() : plain_cfg(plain_config()), paired_cfg(paired_config()), plain(plain_cfg), paired(paired_cfg), now(0) {
    for (uint32_t id = 1; id <= 3; id++) {
      plain.on_open(id, id % 2, now, out);
      paired.on_open(id, id % 2, now, out);
    }
  }
  void frame(uint32_t client, const char *data, size_t len) {
    plain.on_frame(client, data, len, now, out);
    paired.on_frame(client, data, len, now, out);
    check(plain);
    check(paired);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The reader alone, on every byte of the input (exactly sized heap copy: ASan sees any read past
  // the end).
  char *whole = static_cast<char *>(calloc(size ? size : 1, 1));
  if (size) memcpy(whole, data, size);
  AppMsg m;
  decode_app(whole, size, m);
  free(whole);

  const uint8_t *mark = static_cast<const uint8_t *>(size ? memchr(data, kScriptMark, size) : nullptr);
  const size_t frame_len = mark ? static_cast<size_t>(mark - data) : size;
  char *frame = static_cast<char *>(calloc(frame_len ? frame_len : 1, 1));
  if (frame_len) memcpy(frame, data, frame_len);
  const uint8_t *script = mark ? mark + 1 : nullptr;
  const size_t script_len = mark ? size - frame_len - 1 : 0;

  Rig rig;
  char *buf = static_cast<char *>(malloc(kAssemblyCap));
  Assembler rx(buf, kAssemblyCap);
  size_t offset = 0;       // frame bytes handed to the assembler so far
  bool honest = true;      // every piece so far said what AsyncWebSocket would say
  size_t honest_from = 0;  // where the frame being assembled began

  // Hands one piece to the assembler; a Ready frame goes to the devices.
  auto piece = [&](size_t n, uint64_t claimed_len, uint64_t index, bool fin, uint32_t fragment, uint32_t client) {
    const bool truthful = claimed_len == frame_len && index == offset - honest_from && fin && fragment == 0;
    honest = honest && truthful;
    const Assembler::Result r = rx.feed(claimed_len, index, fin, fragment, frame + offset, n);
    offset += n;
    if (r == Assembler::Ready) {
      if (rx.frame() == buf && rx.frame_len() > kAssemblyCap) fail("assembled past the buffer");
      if (honest && (rx.frame_len() != frame_len || memcmp(rx.frame(), frame, frame_len) != 0)) {
        fail("honest pieces did not assemble into the frame");
      }
      rig.frame(client, rx.frame(), rx.frame_len());
    }
    if (r != Assembler::Pending) {
      honest = true;
      honest_from = offset;
    }
  };

  if (script == nullptr) {
    rig.frame(1, frame, frame_len);
    const size_t first = frame_len / 2;
    piece(first, frame_len, 0, true, 0, 2);
    if (offset < frame_len || frame_len == 0) piece(frame_len - offset, frame_len, offset, true, 0, 2);
  }
  for (size_t at = 0; script && at + 6 <= script_len; at += 6) {
    const uint8_t *s = script + at;
    const uint8_t op = s[0], a = s[1], lo = s[2], hi = s[3], idx = s[4], flags = s[5];
    const uint32_t client = a % 4;
    switch (op % 4) {
      case 0: {
        const size_t n = a < frame_len - offset ? a : frame_len - offset;
        const uint64_t claimed = (flags & 1) ? static_cast<uint64_t>(lo | (hi << 8)) : frame_len;
        const uint64_t index = (flags & 2) ? idx : offset - honest_from;
        piece(n, claimed, index, (flags & 4) == 0, (flags & 8) ? 1 : 0, client);
        break;
      }
      case 1:
        rig.now += a * 8u;
        rig.plain.tick(rig.now, rig.out);
        rig.paired.tick(rig.now, rig.out);
        break;
      case 2:
        if (flags & 1) {
          rig.plain.on_close(client, rig.now, rig.out);
          rig.paired.on_close(client, rig.now, rig.out);
        } else {
          rig.plain.on_open(client, lo % 3, rig.now, rig.out);
          rig.paired.on_open(client, lo % 3, rig.now, rig.out);
        }
        break;
      case 3:
        if (flags & 1) {
          rig.plain.on_binary(client, rig.now);
          rig.paired.on_binary(client, rig.now);
        } else {
          rig.plain.on_too_large(client);
          rig.paired.on_too_large(client);
        }
        break;
    }
    check(rig.plain);
    check(rig.paired);
  }
  free(buf);
  free(frame);
  return 0;
}
