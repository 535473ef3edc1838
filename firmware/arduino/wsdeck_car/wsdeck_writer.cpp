// wsdeck_writer: the frames a device sends, in the canonical form of protocol/vectors.json (see
// wsdeck_core.h); protocol/src/device.rs and value.rs write the same text.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsdeck_core.h"
#include "wsdeck_text.h"

namespace wsdeck {

using text::is_digit;

// ---------------------------------------------------------------------------------------------
// Writing frames (protocol/src/device.rs and value.rs give the canonical form)

Writer::Writer(char *buf, size_t cap) : buf_(buf), cap_(cap), len_(0), ok_(cap > 0) {
  if (cap_ > 0) buf_[0] = '\0';
}

Writer &Writer::raw(const char *s) { return raw(s, strlen(s)); }

Writer &Writer::raw(const char *s, size_t n) {
  if (!ok_) return *this;
  if (n >= cap_ - len_) {
    ok_ = false;
    return *this;
  }
  memcpy(buf_ + len_, s, n);
  len_ += n;
  buf_[len_] = '\0';
  return *this;
}

Writer &Writer::str(const char *s) { return str(s, s ? strlen(s) : 0); }

Writer &Writer::str(const char *s, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  raw("\"", 1);
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    raw(s + from, i - from);
    from = i + 1;
    switch (c) {
      case '"': raw("\\\"", 2); break;
      case '\\': raw("\\\\", 2); break;
      case '\b': raw("\\b", 2); break;
      case '\f': raw("\\f", 2); break;
      case '\n': raw("\\n", 2); break;
      case '\r': raw("\\r", 2); break;
      case '\t': raw("\\t", 2); break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        raw(u, 6);
      }
    }
  }
  raw(s + from, n - from);
  return raw("\"", 1);
}

Writer &Writer::u32(uint32_t n) { return i64(n); }

Writer &Writer::i64(int64_t n) {
  char tmp[24];
  size_t k = sizeof tmp;
  const bool neg = n < 0;
  // Negate in unsigned arithmetic so that INT64_MIN is fine too.
  uint64_t u = neg ? (~static_cast<uint64_t>(n) + 1) : static_cast<uint64_t>(n);
  do {
    tmp[--k] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (neg) tmp[--k] = '-';
  return raw(tmp + k, sizeof tmp - k);
}

Writer &Writer::num(double v) {
  if (isnan(v) || isinf(v)) return raw("null", 4);
  const double kExact = 9007199254740992.0;  // 2^53: whole numbers up to here print as integers
  if (fabs(v) <= kExact && v == floor(v)) return i64(static_cast<int64_t>(v));
  // The shortest digits that read back as the same double (what ryu prints)...
  char e[40];
  int p = 1;
  for (; p <= 17; p++) {
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    if (strtod(e, nullptr) == v) break;
  }
  // ...parsed from "-d.ddde+XX" into digits and the exponent of the first one...
  char digits[20];
  size_t nd = 0;
  const char *c = e;
  const bool neg = (*c == '-');
  if (neg) c++;
  for (; *c && *c != 'e'; c++) {
    if (is_digit(*c) && nd < sizeof digits) digits[nd++] = *c;
  }
  const int exp = (*c == 'e') ? atoi(c + 1) : 0;
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  // ...and laid out as serde_json does: 12.34, 0.00001, 1.234e+33, 1e-6, 1e+16.
  const int len = static_cast<int>(nd);
  const int kk = exp + 1;  // the value is 0.DIGITS x 10^kk
  const int k = kk - len;  // ... = DIGITS x 10^k
  if (neg) raw("-", 1);
  if (k >= 0 && kk <= 16) {
    raw(digits, nd);
    for (int z = 0; z < k; z++) raw("0", 1);
    raw(".0", 2);
  } else if (kk > 0 && kk <= 16) {
    raw(digits, static_cast<size_t>(kk));
    raw(".", 1);
    raw(digits + kk, nd - static_cast<size_t>(kk));
  } else if (kk > -5 && kk <= 0) {
    raw("0.", 2);
    for (int z = 0; z < -kk; z++) raw("0", 1);
    raw(digits, nd);
  } else {
    raw(digits, 1);
    if (nd > 1) {
      raw(".", 1);
      raw(digits + 1, nd - 1);
    }
    raw(kk - 1 < 0 ? "e" : "e+", kk - 1 < 0 ? 1 : 2);
    i64(kk - 1);
  }
  return *this;
}

size_t encode_hello(char *buf, size_t cap, const char *name, const char *const *caps, size_t n_caps,
                    int64_t watchdog_ms, const SeriesInfo *series, size_t n_series, const char *pairing,
                    const ControlInfo *const *controls, size_t n_controls) {
  Writer w(buf, cap);
  w.raw("{\"t\":\"hello\",\"v\":").u32(kProtocolVersion).raw(",\"name\":").str(name ? name : "");
  w.raw(",\"caps\":[");
  for (size_t i = 0; i < n_caps; i++) {
    if (i) w.raw(",");
    w.str(caps[i]);
  }
  w.raw("]");
  if (watchdog_ms >= 0) w.raw(",\"watchdog_ms\":").i64(watchdog_ms);
  if (series && n_series) {
    w.raw(",\"series\":{");
    for (size_t i = 0; i < n_series; i++) {
      const SeriesInfo &s = series[i];
      if (i) w.raw(",");
      w.str(s.name).raw(":{");
      // Each field only when given, in the protocol crate's order.
      const char *sep = "";
      if (s.label) {
        w.raw(sep).raw("\"label\":").str(s.label);
        sep = ",";
      }
      if (s.unit) {
        w.raw(sep).raw("\"unit\":").str(s.unit);
        sep = ",";
      }
      if (!isnan(s.min)) {
        w.raw(sep).raw("\"min\":").num(s.min);
        sep = ",";
      }
      if (!isnan(s.max)) {
        w.raw(sep).raw("\"max\":").num(s.max);
        sep = ",";
      }
      if (s.group) w.raw(sep).raw("\"group\":").str(s.group);
      w.raw("}");
    }
    w.raw("}");
  }
  if (pairing) w.raw(",\"pairing\":").str(pairing);
  if (controls && n_controls) {
    w.raw(",\"controls\":[");
    for (size_t i = 0; i < n_controls; i++) {
      if (i) w.raw(",");
      write_control(w, *controls[i]);
    }
    w.raw("]");
  }
  w.raw("}");
  return w.ok() ? w.len() : 0;
}

size_t encode_auth(char *buf, size_t cap, bool ok, int64_t retry_ms) {
  Writer w(buf, cap);
  w.raw("{\"t\":\"auth\",\"ok\":").raw(ok ? "true" : "false");
  if (retry_ms >= 0) w.raw(",\"retry_ms\":").i64(retry_ms);
  w.raw("}");
  return w.ok() ? w.len() : 0;
}

size_t encode_pong(char *buf, size_t cap, uint32_t id) {
  Writer w(buf, cap);
  w.raw("{\"t\":\"pong\",\"id\":").u32(id).raw("}");
  return w.ok() ? w.len() : 0;
}

size_t encode_state(char *buf, size_t cap, int64_t driver, int64_t you, bool armed, const char *failsafe) {
  Writer w(buf, cap);
  w.raw("{\"t\":\"state\",\"driver\":");
  if (driver < 0) w.raw("null"); else w.i64(driver);
  w.raw(",\"you\":");
  if (you < 0) w.raw("null"); else w.i64(you);
  w.raw(",\"armed\":").raw(armed ? "true" : "false").raw(",\"failsafe\":");
  if (failsafe) w.str(failsafe); else w.raw("null");
  w.raw("}");
  return w.ok() ? w.len() : 0;
}

size_t encode_log(char *buf, size_t cap, const char *level, const char *msg) {
  Writer w(buf, cap);
  w.raw("{\"t\":\"log\",\"level\":").str(level).raw(",\"msg\":").str(msg).raw("}");
  return w.ok() ? w.len() : 0;
}

TelFrame::TelFrame(char *buf, size_t cap) : w_(buf, cap), open_(false) { w_.raw("{\"t\":\"tel\""); }

void TelFrame::ms(double device_ms) {
  if (!open_) w_.raw(",\"ms\":").num(device_ms);
}

void TelFrame::add(const char *name, double value) {
  w_.raw(open_ ? "," : ",\"d\":{");
  open_ = true;
  w_.str(name).raw(":").num(value);
}

size_t TelFrame::finish() {
  w_.raw(open_ ? "}}" : ",\"d\":{}}");
  return w_.ok() ? w_.len() : 0;
}

}  // namespace wsdeck
