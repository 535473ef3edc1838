// wsdeck_json: the reader of the app's frames (decode_app, see wsdeck_core.h). A strict JSON
// reader that mirrors the protocol crate's (protocol/src/value.rs and app.rs): when they change,
// change both (the host tests run the shared vectors against this file).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsdeck_core.h"
#include "wsdeck_text.h"

namespace wsdeck {

using text::hex_value;
using text::is_digit;
using text::is_ws;

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

enum Field { kT, kId, kSeq, kX, kY, kL, kR, kToken, kV, kFields };
const char *const kFieldNames[kFields] = {"t", "id", "seq", "x", "y", "l", "r", "token", "v"};

enum Kind : uint8_t { kAbsent, kNumber, kString, kTrue, kFalse, kOther };

struct Slot {
  Kind kind;
  size_t start;  // a number's token
  size_t len;
};

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
    id_len_ = 0;
    id_cut_ = false;
    text_len_ = 0;
    text_cut_ = false;
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
          char *out = nullptr;
          size_t out_cap = 0;
          switch (field) {
            case kT: out = t_, out_cap = sizeof t_; break;
            case kToken: out = token_, out_cap = sizeof token_; break;
            case kId: out = id_, out_cap = sizeof id_; break;
            case kV: out = text_, out_cap = sizeof text_; break;
            default: break;
          }
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
          } else if (field == kId) {
            id_len_ = out_len;
            id_cut_ = cut;
          } else if (field == kV) {
            text_len_ = cut ? text::utf8_whole(text_, out_len) : out_len;
            text_cut_ = cut;
          }
        } else if (c == '-' || is_digit(c)) {
          const size_t start = i_;
          if (!number()) return false;
          if (field >= 0) {
            slots_[field].kind = kNumber;
            slots_[field].start = start;
            slots_[field].len = i_ - start;
          }
        } else if (literal("true")) {
          if (field >= 0) slots_[field].kind = kTrue;
        } else if (literal("false")) {
          if (field >= 0) slots_[field].kind = kFalse;
        } else if (literal("null")) {
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
  const char *id() const { return id_; }
  size_t id_len() const { return id_len_; }
  bool id_cut() const { return id_cut_; }
  const char *text_value() const { return text_; }
  size_t text_len() const { return text_len_; }
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
  void mark_seen(int f) { seen_ = static_cast<uint16_t>(seen_ | (1u << f)); }

  const char *p_;
  size_t n_;
  size_t i_;
  Slot slots_[kFields];
  uint16_t seen_ = 0;
  char t_[sizeof(AppMsg().t)];
  size_t t_len_;
  bool t_cut_;
  char token_[kMaxTokenBytes];
  size_t token_len_;
  bool token_cut_;
  char id_[kMaxControlIdLen];
  size_t id_len_;
  bool id_cut_;
  /// A ctl's text value, cut to fit (text_cut_) on a character boundary.
  char text_[sizeof(AppMsg().text)];
  size_t text_len_;
  bool text_cut_;
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
                                 {"release", MsgType::Release}, {"auth", MsgType::Auth},
                                 {"ctl", MsgType::Ctl}};
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
    case MsgType::Ctl: {
      // As AppMsg::decode: an id of 1..kMaxControlIdLen bytes, a value that is on/off, a number
      // or text, and a seq.
      if (r.slot(kId).kind != kString || r.id_cut() || r.id_len() == 0) return DecodeError::BadField;
      memcpy(out.ctl_id, r.id(), r.id_len());
      out.ctl_id_len = static_cast<uint8_t>(r.id_len());
      const Slot &value = r.slot(kV);
      switch (value.kind) {
        case kTrue:
        case kFalse:
          out.ctl_type = CtlType::Bool;
          out.on = value.kind == kTrue;
          break;
        case kNumber:
          out.ctl_type = CtlType::Num;
          out.num = number_value(r.text() + value.start, value.len);
          break;
        case kString:
          out.ctl_type = CtlType::Text;
          memcpy(out.text, r.text_value(), r.text_len());
          out.text_len = static_cast<uint16_t>(r.text_len());
          break;
        default: return DecodeError::BadField;
      }
      if (!whole_in(r, kSeq, 0, 4294967295.0, v)) return DecodeError::BadField;
      out.seq = static_cast<uint32_t>(v);
      break;
    }
    default: break;
  }
  return DecodeError::None;
}

}  // namespace wsdeck
