// wsdeck_guard: who may open the control socket (check_handshake, the rules of device/src/guard.rs),
// the pairing token compared in constant time, and If-None-Match (see wsdeck_core.h).
#include <string.h>

#include "wsdeck_core.h"
#include "wsdeck_text.h"

namespace wsdeck {

using text::equal_nocase;
using text::hex_value;
using text::is_digit;
using text::Span;
using text::trim;
using text::trimmed;

// ---------------------------------------------------------------------------------------------
// The handshake guard (device/src/guard.rs)

namespace {

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
    const Span tag = trimmed(Span{p, comma ? static_cast<size_t>(comma - p) : strlen(p)});
    if ((tag.n == etag_len && memcmp(tag.p, etag, etag_len) == 0) || (tag.n == 1 && tag.p[0] == '*')) return true;
    if (!comma) return false;
    p = comma + 1;
  }
}

}  // namespace wsdeck
