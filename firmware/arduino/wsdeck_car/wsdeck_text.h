// wsdeck_text: character tests and byte spans shared by the core's .cpp files. Internal to the
// core (a sketch needs only wsdeck_core.h).
#ifndef WSDECK_TEXT_H
#define WSDECK_TEXT_H

#include <stddef.h>
#include <string.h>

namespace wsdeck {
namespace text {

/// JSON's whitespace.
inline bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Bytes that need not be NUL-terminated.
struct Span {
  const char *p;
  size_t n;
};

/// Without ASCII whitespace at either end, as Rust's str::trim sees ASCII.
inline Span trimmed(Span s) {
  const auto space = [](char c) { return is_ws(c) || c == '\v' || c == '\f'; };
  while (s.n && space(s.p[0])) s.p++, s.n--;
  while (s.n && space(s.p[s.n - 1])) s.n--;
  return s;
}

/// A C string (null: empty), trimmed.
inline Span trim(const char *s) {
  Span r = {s ? s : "", s ? strlen(s) : 0};
  return trimmed(r);
}

/// ASCII case-insensitive equality, as Rust's eq_ignore_ascii_case.
inline bool equal_nocase(Span a, const char *b, size_t bn) {
  if (a.n != bn) return false;
  for (size_t i = 0; i < bn; i++) {
    char x = a.p[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// The bytes of the first `max_chars` characters (code points) of UTF-8 text, as Rust's
/// chars().take(n) counts them.
inline size_t utf8_chars_prefix(const char *s, size_t n, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < n; i++) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == max_chars) return i;
  }
  return n;
}

/// At most `max_bytes` of UTF-8 text, cut before a character that would not fit whole.
inline size_t utf8_bytes_prefix(const char *s, size_t n, size_t max_bytes) {
  if (n <= max_bytes) return n;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) end--;
  return end;
}

/// The longest prefix of `n` bytes of UTF-8 text that ends on a whole character (text cut to fit
/// a buffer may end inside one).
inline size_t utf8_whole(const char *s, size_t n) {
  size_t lead = n;
  for (size_t back = 0; back < 4 && lead > 0; back++) {
    const unsigned char c = static_cast<unsigned char>(s[--lead]);
    if ((c & 0xC0) == 0x80) continue;
    const size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    return lead + len <= n ? n : lead;
  }
  return lead;
}

}  // namespace text
}  // namespace wsdeck

#endif  // WSDECK_TEXT_H
