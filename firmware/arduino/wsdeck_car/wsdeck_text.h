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

}  // namespace text
}  // namespace wsdeck

#endif  // WSDECK_TEXT_H
