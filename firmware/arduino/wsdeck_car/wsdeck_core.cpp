// wsdeck_core: see wsdeck_core.h. The rules mirror the Rust sources named in each section; when
// they change, change both (the host tests run the shared vectors against this file).
#include "wsdeck_core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace wsdeck {

const char *error_kind(DecodeError e) {
  switch (e) {
    case DecodeError::None: return "none";
    case DecodeError::Json: return "json";
    case DecodeError::NotAnObject: return "not_an_object";
    case DecodeError::BadField: return "bad_field";
    case DecodeError::TooLarge: return "too_large";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// A strict JSON reader (RFC 8259 as serde_json reads it) that keeps only the top-level fields an
// app frame can carry. One pass, no recursion (depth is a bit stack), no allocation.

namespace {

enum Field { kT, kId, kSeq, kX, kY, kL, kR, kToken, kFields };
const char *const kFieldNames[kFields] = {"t", "id", "seq", "x", "y", "l", "r", "token"};

enum Kind : uint8_t { kAbsent, kNumber, kString, kOther };

struct Slot {
  Kind kind;
  size_t start;  // a number's token
  size_t len;
};

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// A UTF-8 code point's bytes (for decoded \u escapes).
size_t utf8_encode(uint32_t cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

/// A number token's value as a double, via a short normalised copy ("-12345e-3") so that strtod
/// never reads past the token and huge tokens cost a bounded amount. Keeps 40 significant
/// digits, more than a double can tell apart.
double number_value(const char *p, size_t n) {
  char buf[64];
  size_t o = 0;
  size_t i = 0;
  if (i < n && p[i] == '-') buf[o++] = p[i++];
  long exp10 = 0;
  int kept = 0;
  bool nonzero = false;
  for (; i < n && is_digit(p[i]); i++) {
    if (!nonzero && p[i] == '0') continue;
    nonzero = true;
    if (kept < 40) {
      buf[o++] = p[i];
      kept++;
    } else {
      exp10++;
    }
  }
  if (i < n && p[i] == '.') {
    for (i++; i < n && is_digit(p[i]); i++) {
      if (!nonzero && p[i] == '0') {
        exp10--;
        continue;
      }
      nonzero = true;
      if (kept < 40) {
        buf[o++] = p[i];
        kept++;
        exp10--;
      }
    }
  }
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    bool neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) neg = p[i++] == '-';
    long e = 0;
    for (; i < n && is_digit(p[i]); i++) {
      if (e < 100000) e = e * 10 + (p[i] - '0');
    }
    exp10 += neg ? -e : e;
  }
  if (kept == 0) return (p[0] == '-') ? -0.0 : 0.0;
  if (exp10 > 100000) exp10 = 100000;
  if (exp10 < -100000) exp10 = -100000;
  o += static_cast<size_t>(snprintf(buf + o, sizeof buf - o, "e%ld", exp10));
  return strtod(buf, nullptr);
}

class Reader {
 public:
  Reader(const char *p, size_t n) : p_(p), n_(n), i_(0) {
    for (size_t f = 0; f < kFields; f++) slots_[f].kind = kAbsent;
    t_len_ = 0;
    t_cut_ = false;
    token_len_ = 0;
    token_cut_ = false;
    top_object_ = false;
  }

  /// Reads the whole frame; false if it is not exactly one JSON value.
  bool read() {
    uint8_t stack[(kMaxDepth + 8) / 8] = {};  // 1 = object, 0 = array
    size_t depth = 0;
    int pending = -1;  // the top-level field whose value comes next
    enum { kValue, kAfterValue, kKey } state = kValue;
    for (;;) {
      skip_ws();
      if (state == kValue) {
        if (i_ >= n_) return false;
        const char c = p_[i_];
        const int field = pending;
        pending = -1;
        if (c == '{' || c == '[') {
          if (depth == 0 && c == '{') top_object_ = true;
          if (field >= 0) slots_[field].kind = kOther;
          if (depth == kMaxDepth) return false;
          const uint8_t bit = static_cast<uint8_t>(1u << (depth % 8));
          if (c == '{') {
            stack[depth / 8] = static_cast<uint8_t>(stack[depth / 8] | bit);
          } else {
            stack[depth / 8] = static_cast<uint8_t>(stack[depth / 8] & ~bit);
          }
          depth++;
          i_++;
          skip_ws();
          if (i_ < n_ && p_[i_] == (c == '{' ? '}' : ']')) {
            i_++;
            depth--;
            state = kAfterValue;
          } else {
            state = (c == '{') ? kKey : kValue;
          }
          continue;
        }
        if (c == '"') {
          char *out = (field == kT) ? t_ : (field == kToken) ? token_ : nullptr;
          const size_t out_cap = (field == kT) ? sizeof t_ : (field == kToken) ? sizeof token_ : 0;
          size_t out_len = 0;
          bool cut = false;
          if (!string(out, out_cap, out_len, cut)) return false;
          if (field >= 0) slots_[field].kind = kString;
          if (field == kT) {
            t_len_ = static_cast<uint8_t>(out_len);
            t_cut_ = cut;
          } else if (field == kToken) {
            token_len_ = out_len;
            token_cut_ = cut;
          }
        } else if (c == '-' || is_digit(c)) {
          const size_t start = i_;
          if (!number()) return false;
          if (field >= 0) {
            slots_[field].kind = kNumber;
            slots_[field].start = start;
            slots_[field].len = i_ - start;
          }
        } else if (literal("true") || literal("false") || literal("null")) {
          if (field >= 0) slots_[field].kind = kOther;
        } else {
          return false;
        }
        state = kAfterValue;
      } else if (state == kAfterValue) {
        if (depth == 0) return i_ == n_;
        if (i_ >= n_) return false;
        const bool in_object = (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
        const char c = p_[i_++];
        if (c == ',') {
          state = in_object ? kKey : kValue;
        } else if (c == (in_object ? '}' : ']')) {
          depth--;
        } else {
          return false;
        }
      } else {  // kKey
        if (i_ >= n_ || p_[i_] != '"') return false;
        char key[8];
        size_t key_len = 0;
        bool cut = false;
        if (!string(key, sizeof key, key_len, cut)) return false;
        if (depth == 1 && !cut) {
          for (int f = 0; f < kFields; f++) {
            // The first occurrence wins, as in the protocol crate's Value::get.
            if (strlen(kFieldNames[f]) == key_len && memcmp(kFieldNames[f], key, key_len) == 0 &&
                slots_[f].kind == kAbsent && !seen(f)) {
              pending = f;
              mark_seen(f);
            }
          }
        }
        skip_ws();
        if (i_ >= n_ || p_[i_] != ':') return false;
        i_++;
        state = kValue;
      }
    }
  }

  bool top_object() const { return top_object_; }
  const Slot &slot(int f) const { return slots_[f]; }
  const char *t() const { return t_; }
  size_t t_len() const { return t_len_; }
  bool t_cut() const { return t_cut_; }
  const char *token() const { return token_; }
  size_t token_len() const { return token_len_; }
  bool token_cut() const { return token_cut_; }
  const char *text() const { return p_; }

 private:
  void skip_ws() {
    while (i_ < n_ && is_ws(p_[i_])) i_++;
  }

  bool literal(const char *word) {
    const size_t k = strlen(word);
    if (n_ - i_ < k || memcmp(p_ + i_, word, k) != 0) return false;
    i_ += k;
    return true;
  }

  /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; a value beyond double range is an error
  /// (serde_json: "number out of range").
  bool number() {
    const size_t start = i_;
    if (p_[i_] == '-') i_++;
    if (i_ >= n_ || !is_digit(p_[i_])) return false;
    long k = 0;  // decimal exponent of the first significant digit, without the exponent part
    bool nonzero = false;
    if (p_[i_] == '0') {
      i_++;
    } else {
      nonzero = true;
      k = -1;
      while (i_ < n_ && is_digit(p_[i_])) {
        if (k < 1000000) k++;
        i_++;
      }
    }
    if (i_ < n_ && p_[i_] == '.') {
      i_++;
      if (i_ >= n_ || !is_digit(p_[i_])) return false;
      while (i_ < n_ && is_digit(p_[i_])) {
        if (!nonzero) {
          if (k > -1000000) k--;
          if (p_[i_] != '0') nonzero = true;
        }
        i_++;
      }
    }
    long e = 0;
    if (i_ < n_ && (p_[i_] == 'e' || p_[i_] == 'E')) {
      i_++;
      bool neg = false;
      if (i_ < n_ && (p_[i_] == '+' || p_[i_] == '-')) neg = p_[i_++] == '-';
      if (i_ >= n_ || !is_digit(p_[i_])) return false;
      while (i_ < n_ && is_digit(p_[i_])) {
        if (e < 1000000) e = e * 10 + (p_[i_] - '0');
        i_++;
      }
      if (neg) e = -e;
    }
    // Only values of 1e308 and above can overflow a double; look closer at those alone.
    if (nonzero && k + e >= 308 && isinf(number_value(p_ + start, i_ - start))) return false;
    return true;
  }

  /// A string at p_[i_] == '"'. Decoded bytes go to out (up to cap; `cut` when more came).
  /// Rejects control characters, bad escapes, lone surrogates and invalid UTF-8.
  bool string(char *out, size_t cap, size_t &out_len, bool &cut) {
    i_++;
    for (;;) {
      if (i_ >= n_) return false;
      const unsigned char c = static_cast<unsigned char>(p_[i_]);
      if (c == '"') {
        i_++;
        return true;
      }
      if (c < 0x20) return false;
      char buf[4];
      size_t len = 0;
      if (c == '\\') {
        if (++i_ >= n_) return false;
        const char e = p_[i_++];
        switch (e) {
          case '"': buf[0] = '"'; len = 1; break;
          case '\\': buf[0] = '\\'; len = 1; break;
          case '/': buf[0] = '/'; len = 1; break;
          case 'b': buf[0] = '\b'; len = 1; break;
          case 'f': buf[0] = '\f'; len = 1; break;
          case 'n': buf[0] = '\n'; len = 1; break;
          case 'r': buf[0] = '\r'; len = 1; break;
          case 't': buf[0] = '\t'; len = 1; break;
          case 'u': {
            uint32_t cp = 0;
            if (!hex4(cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              uint32_t lo = 0;
              if (n_ - i_ < 2 || p_[i_] != '\\' || p_[i_ + 1] != 'u') return false;
              i_ += 2;
              if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            len = utf8_encode(cp, buf);
            break;
          }
          default: return false;
        }
      } else {
        len = utf8_length(c);
        if (len == 0 || n_ - i_ < len) return false;
        for (size_t k = 0; k < len; k++) buf[k] = p_[i_ + k];
        if (!utf8_valid(reinterpret_cast<const unsigned char *>(buf), len)) return false;
        i_ += len;
      }
      for (size_t k = 0; k < len; k++) {
        if (out_len < cap) {
          out[out_len++] = buf[k];
        } else {
          cut = true;
        }
      }
    }
  }

  bool hex4(uint32_t &cp) {
    if (n_ - i_ < 4) return false;
    cp = 0;
    for (int k = 0; k < 4; k++) {
      const int h = hex_value(p_[i_++]);
      if (h < 0) return false;
      cp = (cp << 4) | static_cast<uint32_t>(h);
    }
    return true;
  }

  static size_t utf8_length(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
  }

  /// Continuation bytes, and no overlong forms, surrogates or code points past U+10FFFF.
  static bool utf8_valid(const unsigned char *b, size_t len) {
    for (size_t k = 1; k < len; k++) {
      if ((b[k] & 0xC0) != 0x80) return false;
    }
    if (len == 3) {
      if (b[0] == 0xE0 && b[1] < 0xA0) return false;
      if (b[0] == 0xED && b[1] > 0x9F) return false;
    }
    if (len == 4) {
      if (b[0] == 0xF0 && b[1] < 0x90) return false;
      if (b[0] == 0xF4 && b[1] > 0x8F) return false;
    }
    return true;
  }

  bool seen(int f) const { return (seen_ >> f) & 1; }
  void mark_seen(int f) { seen_ = static_cast<uint8_t>(seen_ | (1u << f)); }

  const char *p_;
  size_t n_;
  size_t i_;
  Slot slots_[kFields];
  uint8_t seen_ = 0;
  char t_[sizeof(AppMsg().t)];
  size_t t_len_;
  bool t_cut_;
  char token_[kMaxTokenBytes];
  size_t token_len_;
  bool token_cut_;
  bool top_object_;
};

/// An integer-valued number within [lo, hi], as Value::as_u32 / as_i16_within read it: the
/// double the token denotes must be whole and in range.
bool whole_in(const Reader &r, int f, double lo, double hi, int64_t &out) {
  const Slot &s = r.slot(f);
  if (s.kind != kNumber) return false;
  const char *p = r.text() + s.start;
  // The usual case, a short plain integer, without floating point.
  size_t i = (p[0] == '-') ? 1 : 0;
  bool plain = s.len - i <= 10;
  for (size_t k = i; plain && k < s.len; k++) plain = is_digit(p[k]);
  double v;
  if (plain) {
    int64_t n = 0;
    for (size_t k = i; k < s.len; k++) n = n * 10 + (p[k] - '0');
    v = static_cast<double>(i ? -n : n);
  } else {
    v = number_value(p, s.len);
  }
  if (!(v >= lo && v <= hi) || v != floor(v)) return false;
  out = static_cast<int64_t>(v);
  return true;
}

}  // namespace

DecodeError decode_app(const char *data, size_t len, AppMsg &out, size_t max_len) {
  memset(&out, 0, sizeof out);
  out.type = MsgType::Unknown;
  if (max_len > kMaxFrameLen) max_len = kMaxFrameLen;
  if (len > max_len) return DecodeError::TooLarge;
  if (data == nullptr && len > 0) return DecodeError::Json;
  Reader r(data ? data : "", len);
  if (!r.read()) return DecodeError::Json;
  if (!r.top_object()) return DecodeError::NotAnObject;
  const Slot &t = r.slot(kT);
  if (t.kind == kAbsent) return DecodeError::NotAnObject;
  if (t.kind != kString) return DecodeError::BadField;
  memcpy(out.t, r.t(), r.t_len());
  out.t_len = static_cast<uint8_t>(r.t_len());
  out.t_cut = r.t_cut();
  const bool cut = r.t_cut();
  const size_t n = r.t_len();
  const char *name = r.t();
  struct Known {
    const char *name;
    MsgType type;
  };
  static const Known kKnown[] = {{"ping", MsgType::Ping},   {"drive", MsgType::Drive},
                                 {"stop", MsgType::Stop},   {"claim", MsgType::Claim},
                                 {"release", MsgType::Release}, {"auth", MsgType::Auth}};
  MsgType type = MsgType::Unknown;
  for (size_t k = 0; !cut && k < sizeof kKnown / sizeof kKnown[0]; k++) {
    if (strlen(kKnown[k].name) == n && memcmp(kKnown[k].name, name, n) == 0) type = kKnown[k].type;
  }
  out.type = type;
  int64_t v = 0;
  switch (type) {
    case MsgType::Ping:
      if (!whole_in(r, kId, 0, 4294967295.0, v)) return DecodeError::BadField;
      out.id = static_cast<uint32_t>(v);
      break;
    case MsgType::Drive:
    case MsgType::Stop:
      if (!whole_in(r, kSeq, 0, 4294967295.0, v)) return DecodeError::BadField;
      out.seq = static_cast<uint32_t>(v);
      if (type == MsgType::Drive) {
        int16_t *axes[4] = {&out.x, &out.y, &out.l, &out.r};
        for (int a = 0; a < 4; a++) {
          if (r.slot(kX + a).kind == kAbsent) continue;
          if (!whole_in(r, kX + a, -kFull, kFull, v)) return DecodeError::BadField;
          *axes[a] = static_cast<int16_t>(v);
        }
      }
      break;
    case MsgType::Auth: {
      // A string of at most kMaxTokenChars characters (code points, as Rust's chars().count()).
      if (r.slot(kToken).kind != kString || r.token_cut()) return DecodeError::BadField;
      size_t chars = 0;
      for (size_t i = 0; i < r.token_len(); i++) {
        if ((static_cast<unsigned char>(r.token()[i]) & 0xC0) != 0x80) chars++;
      }
      if (chars > kMaxTokenChars) return DecodeError::BadField;
      memcpy(out.token, r.token(), r.token_len());
      out.token_len = static_cast<uint16_t>(r.token_len());
      break;
    }
    default: break;
  }
  return DecodeError::None;
}

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
                    int64_t watchdog_ms, const SeriesInfo *series, size_t n_series, const char *pairing) {
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

// ---------------------------------------------------------------------------------------------
// The handshake guard (sim/src/guard.rs)

namespace {

struct Span {
  const char *p;
  size_t n;
};

Span trim(const char *s) {
  Span r = {s ? s : "", s ? strlen(s) : 0};
  while (r.n && (is_ws(r.p[0]) || r.p[0] == '\v' || r.p[0] == '\f')) r.p++, r.n--;
  while (r.n && (is_ws(r.p[r.n - 1]) || r.p[r.n - 1] == '\v' || r.p[r.n - 1] == '\f')) r.n--;
  return r;
}

bool equal_nocase(Span a, const char *b, size_t bn) {
  if (a.n != bn) return false;
  for (size_t i = 0; i < bn; i++) {
    char x = a.p[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// Rust's Ipv4Addr::from_str: four decimal octets, no leading zeros.
bool is_ipv4(const char *p, size_t n) {
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part) {
      if (i >= n || p[i] != '.') return false;
      i++;
    }
    const size_t start = i;
    unsigned v = 0;
    while (i < n && is_digit(p[i]) && i - start < 3) v = v * 10 + static_cast<unsigned>(p[i++] - '0');
    const size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && p[start] == '0')) return false;
  }
  return i == n;
}

/// Rust's Ipv6Addr::from_str: up to eight groups of 1-4 hex digits, one "::" at most, an IPv4
/// tail allowed.
bool is_ipv6(const char *p, size_t n) {
  int groups = 0;
  bool gap = false;
  size_t i = 0;
  if (n >= 2 && p[0] == ':' && p[1] == ':') {
    gap = true;
    i = 2;
    if (i == n) return true;
  } else if (n >= 1 && p[0] == ':') {
    return false;
  }
  while (i < n) {
    // An IPv4 tail: the rest contains a '.' before any ':'.
    size_t j = i;
    while (j < n && p[j] != ':' && p[j] != '.') j++;
    if (j < n && p[j] == '.') {
      if (!is_ipv4(p + i, n - i)) return false;
      groups += 2;
      i = n;
      break;
    }
    const size_t len = j - i;
    if (len == 0 || len > 4) return false;
    for (size_t k = i; k < j; k++) {
      if (hex_value(p[k]) < 0) return false;
    }
    groups++;
    i = j;
    if (i == n) break;
    // p[i] == ':'
    if (i + 1 < n && p[i + 1] == ':') {
      if (gap) return false;
      gap = true;
      i += 2;
      if (i == n) break;
    } else {
      i++;
      if (i == n) return false;
    }
  }
  return gap ? groups < 8 : groups == 8;
}

/// `car.local` from `car.local:8080`, `[::1]` from `[::1]:8080` (guard.rs host_name).
Span host_name(Span h) {
  if (h.n && h.p[0] == '[') {
    for (size_t i = 0; i < h.n; i++) {
      if (h.p[i] == ']') return Span{h.p, i + 1};
    }
    return h;
  }
  for (size_t i = h.n; i > 0; i--) {
    if (h.p[i - 1] == ':') return Span{h.p, i - 1};
  }
  return h;
}

bool host_allowed(Span host, const char *const *allow, size_t n_allow) {
  Span name = host_name(host);
  if (name.n == 0) return false;
  if (equal_nocase(name, "localhost", 9)) return true;
  Span ip = name;
  while (ip.n && ip.p[0] == '[') ip.p++, ip.n--;
  while (ip.n && ip.p[ip.n - 1] == ']') ip.n--;
  if (is_ipv4(ip.p, ip.n) || is_ipv6(ip.p, ip.n)) return true;
  for (size_t i = 0; i < n_allow; i++) {
    if (allow[i] && equal_nocase(name, allow[i], strlen(allow[i]))) return true;
  }
  return false;
}

}  // namespace

Guard check_handshake(const char *host, const char *origin, const char *const *allow_origins,
                      size_t n_origins, const char *const *allow_hosts, size_t n_hosts) {
  const Span h = trim(host);
  if (!host_allowed(h, allow_hosts, n_hosts)) return Guard::BadHost;
  if (origin == nullptr) return Guard::Ok;
  const Span o = trim(origin);
  static const char *const kSchemes[] = {"http://", "https://"};
  for (size_t s = 0; s < 2; s++) {
    const size_t k = strlen(kSchemes[s]);
    if (o.n >= k && memcmp(o.p, kSchemes[s], k) == 0 && equal_nocase(Span{o.p + k, o.n - k}, h.p, h.n)) {
      return Guard::Ok;
    }
  }
  for (size_t i = 0; i < n_origins; i++) {
    if (allow_origins[i] && equal_nocase(o, allow_origins[i], strlen(allow_origins[i]))) return Guard::Ok;
  }
  return Guard::BadOrigin;
}

bool token_equal(const char *given, size_t given_len, const char *expected, size_t expected_len) {
  // Every byte position up to kMaxTokenBytes is looked at whatever the lengths and contents, and
  // differences are OR-ed together: no early exit for an attacker to time.
  volatile uint8_t diff = (given_len == expected_len && given_len <= kMaxTokenBytes) ? 0 : 1;
  for (size_t i = 0; i < kMaxTokenBytes; i++) {
    const uint8_t a = i < given_len ? static_cast<uint8_t>(given[i]) : 0;
    const uint8_t b = i < expected_len ? static_cast<uint8_t>(expected[i]) : 0;
    diff = static_cast<uint8_t>(diff | (a ^ b));
  }
  return diff == 0;
}

bool etag_matches(const char *if_none_match, const char *etag) {
  if (!if_none_match || !etag) return false;
  const size_t etag_len = strlen(etag);
  const char *p = if_none_match;
  for (;;) {
    const char *comma = strchr(p, ',');
    Span tag = {p, comma ? static_cast<size_t>(comma - p) : strlen(p)};
    while (tag.n && (is_ws(tag.p[0]) || tag.p[0] == '\v' || tag.p[0] == '\f')) tag.p++, tag.n--;
    while (tag.n && (is_ws(tag.p[tag.n - 1]) || tag.p[tag.n - 1] == '\v' || tag.p[tag.n - 1] == '\f')) tag.n--;
    if ((tag.n == etag_len && memcmp(tag.p, etag, etag_len) == 0) || (tag.n == 1 && tag.p[0] == '*')) return true;
    if (!comma) return false;
    p = comma + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// The car (sim/src/car.rs) and its frames (sim/src/main.rs Sim::on_app_frame, sim/src/ws.rs)

const char *pairing_name(PairingMode m) { return m == PairingMode::Control ? "control" : "required"; }

Assembler::Result Assembler::feed(uint64_t frame_len, uint64_t index, bool fin, uint32_t fragment, const char *piece,
                                  size_t n) {
  frame_ = nullptr;
  len_ = 0;
  if (!fin || fragment != 0) {
    reset();
    return Unsupported;
  }
  if (frame_len > cap_) {
    reset();
    return TooLarge;
  }
  if (index == 0 && n == frame_len) {
    // The usual case: the whole frame in one piece, read in place.
    reset();
    frame_ = piece;
    len_ = n;
    return Ready;
  }
  // A piece of a frame split across TCP segments: it must continue exactly where the last ended.
  if (index != (busy_ ? got_ : 0) || n > frame_len - index) {
    reset();
    return Unsupported;
  }
  if (n > 0) memcpy(buf_ + got_, piece, n);
  got_ += n;
  busy_ = true;
  if (got_ < frame_len) return Pending;
  frame_ = buf_;
  len_ = got_;
  got_ = 0;
  busy_ = false;
  return Ready;
}

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
  Span s = {data ? data : "", data ? len : 0};
  while (s.n && (is_ws(s.p[0]) || s.p[0] == '\v' || s.p[0] == '\f')) s.p++, s.n--;
  while (s.n && (is_ws(s.p[s.n - 1]) || s.p[s.n - 1] == '\v' || s.p[s.n - 1] == '\f')) s.n--;
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
      stops_total_(0) {
  if (config_.max_frame_len > kMaxFrameLen) config_.max_frame_len = kMaxFrameLen;
  if (config_.max_clients > kMaxClients || config_.max_clients == 0) config_.max_clients = kMaxClients;
  if (config_.max_msg_rate > 1000000) config_.max_msg_rate = 1000000;
  // A burst of a quarter second's worth, at least 10 (sim/src/limits.rs), in thousandths.
  burst_milli_ = config_.max_msg_rate * 250 > 10000 ? config_.max_msg_rate * 250 : 10000;
  // Pairing needs JSON frames: the text dialect has no way to send a token.
  pairing_ = config_.pairing_token != nullptr && config_.pairing_token[0] != '\0' && config_.dialect == Dialect::Json;
  token_len_ = pairing_ ? strlen(config_.pairing_token) : 0;
  memset(clients_, 0, sizeof clients_);
  memset(lockouts_, 0, sizeof lockouts_);
  memset(stops_, 0, sizeof stops_);
  memset(&stats_, 0, sizeof stats_);
  scratch_[0] = '\0';
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
                                  config_.series_count, pairing);
  // Series that do not fit are left out rather than the whole hello.
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

bool Device::on_open(uint32_t client, uint64_t remote, uint32_t now_ms, Outbox &out) {
  const uint32_t now = clock(now_ms);
  Client *c = find(client);
  if (c == nullptr) {
    if (n_clients_ >= config_.max_clients) {
      stats_.refused_clients++;
      return false;
    }
    c = &clients_[n_clients_++];
    memset(c, 0, sizeof *c);
    c->id = client;
    c->tokens = burst_milli_;
    c->last_ms = now;
    c->window_start_ms = now;
  }
  c->remote = remote;
  c->paired = !pairing_;
  if (config_.hello) send_frame(client, encode_hello(scratch_, sizeof scratch_), out);
  // With pairing Required, an unpaired client gets its state when it pairs, and no log.
  if (!may_watch(client)) return true;
  if (config_.dialect == Dialect::Json) {
    send_frame(client, encode_state_for(client, scratch_, sizeof scratch_), out);
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
  // sim/src/limits.rs RateCap::check, in integers: tokens are thousandths of a message.
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
    case MsgType::Unknown: stats_.unknown_types++; break;
  }
  return DecodeError::None;
}

const Device::Lockout *Device::lockout(uint64_t remote) const {
  for (size_t i = 0; i < n_lockouts_; i++) {
    if (lockouts_[i].remote == remote) return &lockouts_[i];
  }
  return nullptr;
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
    if (l) *l = lockouts_[--n_lockouts_];  // a right token forgets the address's wrong ones
    const bool was_paired = c && c->paired;
    if (c) c->paired = true;
    send_frame(client, encode_auth(scratch_, sizeof scratch_, true, -1), out);
    // A client that could not watch gets the state it missed on connect.
    if (c && !was_paired && config_.pairing_mode == PairingMode::Required) {
      send_frame(client, encode_state_for(client, scratch_, sizeof scratch_), out);
    }
    return;
  }
  stats_.auth_refused++;
  if (l == nullptr) {
    if (n_lockouts_ < kAddrsKept) {
      l = &lockouts_[n_lockouts_++];
    } else {
      // The table is full: forget the address whose last wrong token is the oldest.
      l = &lockouts_[0];
      for (size_t i = 1; i < n_lockouts_; i++) {
        if (now - lockouts_[i].since_ms > now - l->since_ms) l = &lockouts_[i];
      }
    }
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
