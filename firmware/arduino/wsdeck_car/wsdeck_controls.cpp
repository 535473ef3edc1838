// wsdeck_controls: the controls a device declares and the values they hold (docs/PROTOCOL.md,
// "Controls"; see wsdeck_core.h): declarations in canonical form, ctl frames, and the Device's
// rules: a ctl is checked against the declaration as protocol/src/control.rs Control::accept
// does, every change goes to every client, a held button is released when its client leaves.
#include <math.h>
#include <string.h>

#include "wsdeck_core.h"
#include "wsdeck_text.h"

namespace wsdeck {

using text::utf8_bytes_prefix;
using text::utf8_chars_prefix;

namespace {

/// A declaration's text field as the protocol crate keeps it: null or empty is absent, longer
/// than kMaxLabelChars characters is cut.
size_t label_len(const char *s) { return s ? utf8_chars_prefix(s, strlen(s), kMaxLabelChars) : 0; }

/// Option i of a select, cut as label_len cuts it; 0 for an empty or repeated one (left out).
size_t option_len(const ControlInfo &c, size_t i) {
  const size_t n = label_len(c.options[i]);
  for (size_t k = 0; n && k < i; k++) {
    if (label_len(c.options[k]) == n && memcmp(c.options[k], c.options[i], n) == 0) return 0;
  }
  return n;
}

/// The options written and accepted: non-empty, not repeated, the first kMaxOptions.
template <class F>
void each_option(const ControlInfo &c, F f) {
  size_t kept = 0;
  for (size_t i = 0; c.options && i < c.n_options && kept < kMaxOptions; i++) {
    const size_t n = option_len(c, i);
    if (n == 0) continue;
    f(kept++, c.options[i], n);
  }
}

uint32_t text_max_len(const ControlInfo &c) {
  if (c.max_len == 0) return kDefaultTextLen;
  return c.max_len > kMaxTextLen ? kMaxTextLen : c.max_len;
}

double rate_hz(const ControlInfo &c) {
  if (isnan(c.rate_hz)) return kDefaultRateHz;
  return c.rate_hz < 1 ? 1 : c.rate_hz > 50 ? 50 : c.rate_hz;
}

double clamp(double n, double lo, double hi) { return n < lo ? lo : n > hi ? hi : n; }

/// `n` clamped to lo..hi and moved to the nearest lo + k * step in range (a step too fine for
/// the range's magnitude is ignored), exactly as protocol/src/control.rs snap (decimal steps such as 0.1 as (10 * lo + k) / 10).
double snap(double n, double lo, double hi, double step) {
  n = clamp(n, lo, hi);
  if (!(step > 0) || isinf(step)) return n;
  // Beyond 10^12 steps from zero a step is finer than a double can tell apart: not snapped.
  if ((fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi)) / step > 1e12) return n;
  double k = round((n - lo) / step);
  const double per_unit = 1 / step;
  const double whole = round(per_unit);
  const double scaled_lo = lo * whole;
  const bool exact = per_unit >= 1 && fabs(per_unit - whole) <= 1e-9 * whole &&
                     fabs(scaled_lo - round(scaled_lo)) <= 1e-6 && whole <= 1e9;
  double v = exact ? (round(scaled_lo) + k) / whole : lo + k * step;
  if (v > hi) {
    k -= 1;
    v = exact ? (round(scaled_lo) + k) / whole : lo + k * step;
  }
  return clamp(v, lo, hi);
}

void field(Writer &w, const char *key, const char *s) {
  const size_t n = label_len(s);
  if (n) w.raw(",\"").raw(key).raw("\":").str(s, n);
}

void field(Writer &w, const char *key, double v) {
  if (!isnan(v)) w.raw(",\"").raw(key).raw("\":").num(v);
}

}  // namespace

const char *control_kind_name(ControlKind k) {
  switch (k) {
    case ControlKind::Button: return "button";
    case ControlKind::Toggle: return "toggle";
    case ControlKind::Slider: return "slider";
    case ControlKind::Number: return "number";
    case ControlKind::Select: return "select";
    case ControlKind::Text: return "text";
    case ControlKind::Gauge: return "gauge";
    case ControlKind::Led: return "led";
    case ControlKind::Value: return "value";
  }
  return "?";
}

bool ControlInfo::valid() const {
  const size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > kMaxControlIdLen) return false;
  switch (kind) {
    case ControlKind::Slider:
    case ControlKind::Number:
    case ControlKind::Gauge: return lo() <= hi();
    case ControlKind::Select: {
      bool any = false;
      each_option(*this, [&](size_t, const char *, size_t) { any = true; });
      return any;
    }
    default: return true;
  }
}

void write_control(Writer &w, const ControlInfo &c) {
  const size_t label = label_len(c.label);
  w.raw("{\"id\":").str(c.id).raw(",\"kind\":").str(control_kind_name(c.kind)).raw(",\"label\":");
  if (label) w.str(c.label, label); else w.str(c.id);
  switch (c.kind) {
    case ControlKind::Slider:
    case ControlKind::Number:
    case ControlKind::Gauge:
      w.raw(",\"min\":").num(c.lo()).raw(",\"max\":").num(c.hi());
      if (c.kind != ControlKind::Gauge && c.step > 0 && !isinf(c.step)) w.raw(",\"step\":").num(c.step);
      field(w, "unit", c.unit);
      if (c.kind == ControlKind::Gauge) {
        field(w, "warn", c.warn);
        field(w, "alarm", c.alarm);
      }
      break;
    case ControlKind::Select:
      w.raw(",\"options\":[");
      each_option(c, [&](size_t i, const char *s, size_t n) {
        if (i) w.raw(",");
        w.str(s, n);
      });
      w.raw("]");
      break;
    case ControlKind::Text: w.raw(",\"max_len\":").u32(text_max_len(c)); break;
    case ControlKind::Led: field(w, "color", c.color); break;
    case ControlKind::Button:
    case ControlKind::Toggle:
    case ControlKind::Value: break;
  }
  field(w, "group", c.group);
  field(w, "confirm", c.confirm);
  if (c.disabled) w.raw(",\"disabled\":true");
  if (rate_hz(c) != kDefaultRateHz) w.raw(",\"rate_hz\":").num(rate_hz(c));
  if (c.drive) w.raw(",\"drive\":true");
  if (c.read_only() && c.series && c.series[0]) {
    // A series name is at most 100 bytes (protocol/src/reading.rs MAX_NAME_LEN).
    w.raw(",\"series\":").str(c.series, utf8_bytes_prefix(c.series, strlen(c.series), 100));
  }
  w.raw("}");
}

size_t encode_controls(char *buf, size_t cap, const ControlInfo *const *controls, size_t n_controls) {
  Writer w(buf, cap);
  w.raw("{\"t\":\"controls\",\"controls\":[");
  for (size_t i = 0; controls && i < n_controls; i++) {
    if (i) w.raw(",");
    write_control(w, *controls[i]);
  }
  w.raw("]}");
  return w.ok() ? w.len() : 0;
}

CtlFrame::CtlFrame(char *buf, size_t cap) : w_(buf, cap), first_(true) { w_.raw("{\"t\":\"ctl\",\"v\":{"); }

void CtlFrame::key(const char *id) {
  if (!first_) w_.raw(",");
  first_ = false;
  w_.str(id).raw(":");
}

void CtlFrame::on(const char *id, bool value) {
  key(id);
  w_.raw(value ? "true" : "false");
}

void CtlFrame::num(const char *id, double value) {
  key(id);
  w_.num(value);
}

void CtlFrame::text(const char *id, const char *s, size_t n) {
  key(id);
  w_.str(s, n);
}

size_t CtlFrame::finish() {
  w_.raw("}}");
  return w_.ok() ? w_.len() : 0;
}

// ---------------------------------------------------------------------------------------------
// The Device's controls

int Device::control_index(const char *id) const {
  for (size_t i = 0; id && i < n_controls_; i++) {
    if (strcmp(controls_[i]->id, id) == 0) return static_cast<int>(i);
  }
  return -1;
}

bool Device::control_on(const char *id) const {
  const int i = control_index(id);
  return i >= 0 && values_[i].on;
}

double Device::control_num(const char *id) const {
  const int i = control_index(id);
  if (i < 0) return NAN;
  const ControlKind k = controls_[i]->kind;
  return (k == ControlKind::Slider || k == ControlKind::Number || k == ControlKind::Gauge) ? values_[i].num : NAN;
}

const char *Device::control_text(const char *id, size_t *len) const {
  const int i = control_index(id);
  if (len) *len = 0;
  if (i < 0) return nullptr;
  const ControlInfo &c = *controls_[i];
  if (c.kind == ControlKind::Select) {
    const char *chosen = nullptr;
    each_option(c, [&](size_t k, const char *s, size_t n) {
      if (k == values_[i].option) {
        chosen = s;
        if (len) *len = n;
      }
    });
    return chosen;
  }
  if (c.kind != ControlKind::Text && c.kind != ControlKind::Value) return nullptr;
  if (len) *len = values_[i].text_len;
  return values_[i].text;
}

bool Device::accept(size_t i, CtlType type, bool on, double num, const char *text, size_t text_len) {
  const ControlInfo &c = *controls_[i];
  ControlValue &v = values_[i];
  const ControlValue before = v;
  switch (c.kind) {
    case ControlKind::Button:
    case ControlKind::Toggle:
    case ControlKind::Led:
      if (type != CtlType::Bool) return false;
      v.on = on;
      break;
    case ControlKind::Slider:
    case ControlKind::Number:
      if (type != CtlType::Num || !isfinite(num)) return false;
      v.num = snap(num, c.lo(), c.hi(), c.step);
      break;
    case ControlKind::Gauge:
      if (type != CtlType::Num || !isfinite(num)) return false;
      v.num = clamp(num, c.lo(), c.hi());
      break;
    case ControlKind::Select: {
      if (type != CtlType::Text) return false;
      bool found = false;
      each_option(c, [&](size_t k, const char *s, size_t n) {
        if (!found && n == text_len && memcmp(s, text, n) == 0) {
          v.option = static_cast<uint8_t>(k);
          found = true;
        }
      });
      if (!found) return false;
      break;
    }
    case ControlKind::Text:
    case ControlKind::Value: {
      char shown[32];
      if (type == CtlType::Num && c.kind == ControlKind::Value && isfinite(num)) {
        // A value control shows a number as its text.
        Writer w(shown, sizeof shown);
        w.num(num);
        text = shown;
        text_len = w.len();
      } else if (type != CtlType::Text) {
        return false;
      }
      const uint32_t max_chars = c.kind == ControlKind::Text ? text_max_len(c) : kMaxTextLen;
      size_t n = utf8_chars_prefix(text, text_len, max_chars);
      n = utf8_bytes_prefix(text, n, sizeof v.text);
      memcpy(v.text, text, n);
      v.text_len = static_cast<uint8_t>(n);
      break;
    }
  }
  if (v.on != before.on || v.num != before.num || v.option != before.option || v.text_len != before.text_len ||
      memcmp(v.text, before.text, v.text_len) != 0) {
    control_changes_++;
  }
  return true;
}

size_t Device::encode_ctl(char *buf, size_t cap, int only) const {
  CtlFrame f(buf, cap);
  for (size_t i = 0; i < n_controls_; i++) {
    if (only >= 0 && static_cast<size_t>(only) != i) continue;
    const ControlInfo &c = *controls_[i];
    switch (c.kind) {
      case ControlKind::Button:
      case ControlKind::Toggle:
      case ControlKind::Led: f.on(c.id, values_[i].on); break;
      case ControlKind::Slider:
      case ControlKind::Number:
      case ControlKind::Gauge: f.num(c.id, values_[i].num); break;
      case ControlKind::Select:
      case ControlKind::Text:
      case ControlKind::Value: {
        size_t n = 0;
        const char *s = control_text(c.id, &n);
        f.text(c.id, s ? s : "", n);
        break;
      }
    }
  }
  return f.finish();
}

void Device::send_ctl(uint32_t client, Outbox &out) {
  if (n_controls_ == 0 || config_.dialect != Dialect::Json) return;
  const size_t n = encode_ctl(scratch_, sizeof scratch_);
  if (n) {
    send_frame(client, n, out);
    return;
  }
  // Too many values for one frame: one frame each.
  for (size_t i = 0; i < n_controls_; i++) {
    send_frame(client, encode_ctl(scratch_, sizeof scratch_, static_cast<int>(i)), out);
  }
}

void Device::broadcast_ctl(int i, Outbox &out) {
  if (config_.dialect != Dialect::Json) return;
  for (size_t k = 0; k < n_clients_; k++) {
    const uint32_t id = clients_[k].id;
    if (!may_watch(id)) continue;
    if (i < 0) {
      send_ctl(id, out);
    } else {
      send_frame(id, encode_ctl(scratch_, sizeof scratch_, i), out);
    }
  }
}

void Device::ctl(uint32_t client, const AppMsg &m, Outbox &out) {
  int i = -1;
  for (size_t k = 0; k < n_controls_; k++) {
    const char *id = controls_[k]->id;
    if (strlen(id) == m.ctl_id_len && memcmp(id, m.ctl_id, m.ctl_id_len) == 0) i = static_cast<int>(k);
  }
  const bool takes = i >= 0 && !controls_[i]->read_only() && !controls_[i]->disabled;
  if (!takes || !accept(static_cast<size_t>(i), m.ctl_type, m.on, m.num, m.text, m.text_len)) {
    stats_.ctl_refused++;
    // The sender learns the value it holds at once, so that its pending change goes back.
    if (i >= 0) send_frame(client, encode_ctl(scratch_, sizeof scratch_, i), out);
    return;
  }
  stats_.ctl_applied++;
  if (controls_[i]->kind == ControlKind::Button && values_[i].on) values_[i].holder = client;
  // Every client hears of it, the sender too: the device's ctl confirms a change.
  broadcast_ctl(i, out);
}

void Device::release_buttons(uint32_t client, Outbox &out) {
  for (size_t i = 0; i < n_controls_; i++) {
    if (controls_[i]->kind != ControlKind::Button || !values_[i].on || values_[i].holder != client) continue;
    values_[i].on = false;
    control_changes_++;
    stats_.buttons_released++;
    broadcast_ctl(static_cast<int>(i), out);
  }
}

bool Device::set_control_on(const char *id, bool on, Outbox &out) {
  const int i = control_index(id);
  if (i < 0 || !accept(static_cast<size_t>(i), CtlType::Bool, on, 0, nullptr, 0)) return false;
  broadcast_ctl(i, out);
  return true;
}

bool Device::set_control_num(const char *id, double v, Outbox &out) {
  const int i = control_index(id);
  if (i < 0 || !accept(static_cast<size_t>(i), CtlType::Num, false, v, nullptr, 0)) return false;
  broadcast_ctl(i, out);
  return true;
}

bool Device::set_control_text(const char *id, const char *s, Outbox &out) {
  const int i = control_index(id);
  const size_t n = s ? strlen(s) : 0;
  if (i < 0 || !accept(static_cast<size_t>(i), CtlType::Text, false, 0, s ? s : "", n)) return false;
  broadcast_ctl(i, out);
  return true;
}

void Device::keep_controls() {
  n_controls_ = 0;
  control_changes_ = 0;
  memset(values_, 0, sizeof values_);
  if (config_.dialect != Dialect::Json) return;
  for (size_t i = 0; config_.controls && i < config_.control_count && n_controls_ < kDeviceControls; i++) {
    const ControlInfo &c = config_.controls[i];
    if (!c.valid() || control_index(c.id) >= 0) continue;
    controls_[n_controls_] = &c;
    // The initial value (Control::initial): off, min, the first option, no text.
    values_[n_controls_].num = c.lo();
    n_controls_++;
  }
}

}  // namespace wsdeck
