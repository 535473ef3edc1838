// wsdeck_car: reference firmware for a two-motor car driven from the wsdeck app (ESP32, Arduino).
//
// Serves the app from flash (wsdeck_assets.h, made by `cargo xtask dist`), speaks wsdeck protocol
// v1 on /ws (docs/PROTOCOL.md) and drives two DC motors through an L298N or TB6612 driver. The
// protocol itself lives in wsdeck_core.{h,cpp}, plain C++ tested on a PC by `cargo xtask test`;
// this file only wires it to WiFi, the web server and the PWM pins. See firmware/README.md.
//
// Libraries: ESP32Async/ESPAsyncWebServer 3.11 or later and ESP32Async/AsyncTCP 3.5 or later
// (older 3.x touch the client list from two tasks without a lock, and close a client whose send
// queue is full instead of dropping the frame). This sketch is not compiled by wsdeck's CI (no
// ESP32 toolchain there); ../typecheck.sh checks it against the real libraries' headers when you
// have them. Report what breaks.

#include <Arduino.h>
#include <AsyncTCP.h>
#include <ESPAsyncWebServer.h>
#include <ESPmDNS.h>
#include <WiFi.h>

#include "wsdeck_core.h"

// The Arduino IDE does not read platformio.ini: refuse the library versions this sketch must not
// run on (see the comment at the top).
#if !defined(ASYNCWEBSERVER_VERSION_NUM) || ASYNCWEBSERVER_VERSION_NUM < ASYNCWEBSERVER_VERSION_VAL(3, 11, 0)
#error "wsdeck_car needs ESPAsyncWebServer 3.11 or later (by ESP32Async, in the Library Manager)"
#endif
#if !defined(ASYNCTCP_VERSION_NUM) || ASYNCTCP_VERSION_NUM < ASYNCTCP_VERSION_VAL(3, 5, 0)
#error "wsdeck_car needs Async TCP 3.5 or later (by ESP32Async, in the Library Manager)"
#endif

// The app, gzipped, as C arrays: copy target/flash/wsdeck_assets.h here after `cargo xtask dist`.
// Without it the sketch still builds and speaks the protocol; `/` explains what is missing.
#if __has_include("wsdeck_assets.h")
#include "wsdeck_assets.h"
#define WSDECK_HAVE_ASSETS 1
#else
#define WSDECK_HAVE_ASSETS 0
#endif

// =============================================================================================
// Configuration
// =============================================================================================

// WiFi: 1 = the car opens its own access point (phone joins "wsdeck-car", app at
// http://192.168.4.1/); 0 = the car joins your network (app at http://wsdeck-car.local/ or its IP,
// printed on Serial).
#define WSDECK_SOFTAP 1
static const char *const AP_SSID = "wsdeck-car";
static const char *const AP_PASSWORD = "drive-me-1";  // 8 characters or more
static const int AP_CHANNEL = 6;
static const char *const STA_SSID = "your-network";
static const char *const STA_PASSWORD = "your-password";
static const char *const HOSTNAME = "wsdeck-car";  // station mode: also wsdeck-car.local (mDNS)

// Who may open the control socket (docs/SECURITY.md). Pages this car served itself, and tools
// that send no Origin, always may; add an origin here to let an app served elsewhere drive it.
static const char *const ALLOW_ORIGINS[] = {
    // "http://192.168.1.20:8080",
    nullptr,
};
// Host names this car answers to besides IP addresses and localhost (against DNS rebinding).
static const char *const ALLOW_HOSTS[] = {
    "wsdeck-car.local",
    nullptr,
};

// Pairing (docs/PROTOCOL.md "Pairing"): with a token, someone else on the WiFi cannot drive the
// car. The app asks for the token once per car address and remembers it on the phone. "" for
// none. At most 64 characters; use something not easy to guess (a wrong guess makes that
// address wait 1 s, then 2, 4, ... up to 60 s, until the right token comes).
static const char *const PAIRING_TOKEN = "";
// REQUIRED: a phone without the token gets nothing but hello (no telemetry, no state).
// CONTROL: anyone may watch the telemetry; driving needs the token.
// Either way a STOP from any phone is obeyed.
static const wsdeck::PairingMode PAIRING_MODE = wsdeck::PairingMode::Required;

static const char *const CAR_NAME = "wsdeck car";
static const uint32_t WATCHDOG_MS = 300;  // motors stop when no drive frame came for this long
static const uint32_t TELEMETRY_HZ = 20;  // 0 for none
// Written so that TELEMETRY_HZ = 0 never divides by zero, not even in a branch never taken (which
// the compiler warns about, failing -Werror builds).
static const uint32_t TELEMETRY_PERIOD_MS = 1000 / (TELEMETRY_HZ > 0 ? TELEMETRY_HZ : 1);
// Limits (docs/PROTOCOL.md "Limits"). Frames from the app are under 100 bytes: a longer frame
// than MAX_INCOMING closes the connection with 1009 before its payload is read (the protocol's
// cap is 64 KiB; an ESP32 has no RAM to spare for that, and the sketch keeps one MAX_INCOMING
// buffer per client to put frames split across TCP segments back together). Fragmented
// messages, which the app never sends, close it with 1003.
static const size_t MAX_INCOMING = 1024;
// Messages per client per second (bursts of a quarter of that): the excess is dropped, a stop
// never; 5 s on end over it closes the connection with 1008. 0 for no cap.
static const uint32_t MAX_MSG_RATE = 200;
// Phones connected at once (at most wsdeck::kMaxClients, 8); more are closed with 1013. In
// access-point mode it is also the number of stations the access point lets join (its default is 4).
static const size_t MAX_CLIENTS = wsdeck::kMaxClients;

// Motor driver. L298N: ENA/ENB are the PWM pins, IN1..IN4 the direction pins (remove the ENA/ENB
// jumpers). TB6612FNG: PWMA/PWMB, AIN1/AIN2, BIN1/BIN2, and STBY (set STBY_PIN, or tie it high).
struct MotorPins {
  int pwm;
  int in1;
  int in2;
  bool invert;  // swap directions instead of rewiring a motor that turns the wrong way
};
static const MotorPins LEFT = {25, 26, 27, false};
static const MotorPins RIGHT = {33, 32, 14, false};
static const int STBY_PIN = -1;  // TB6612 standby; -1 when not wired
// 20 kHz is silent on a TB6612; an L298N switches slowly, so 1000-2000 Hz suits it better.
static const uint32_t PWM_HZ = 20000;
static const uint8_t PWM_BITS = 10;
static const uint32_t PWM_MAX = (1u << PWM_BITS) - 1;
// Below this duty (0..1000) the motors only hum: commands under it are sent as 0.
static const int16_t MIN_COMMAND = 0;

// Battery voltage through a divider on an ADC pin (-1: not measured).
static const int BATTERY_PIN = -1;
static const float BATTERY_DIVIDER = 3.0f;  // (R1 + R2) / R2

// Controls (docs/PROTOCOL.md "Controls"): the app shows them as a switch and a button, on its
// Controls page and beside the pads on the Drive page. Outputs driven HIGH while on (-1: not
// wired). The horn is on only while a finger holds it, and goes off when that phone disconnects.
static const int HEADLIGHTS_PIN = -1;
static const int HORN_PIN = -1;

// =============================================================================================

// How the app labels the telemetry this sketch sends (hello's "series").
static const wsdeck::SeriesInfo SERIES[] = {
    {"battery_v", "Battery", "V", 6.0, 8.4, "power"},
    {"rssi_dbm", "WiFi signal", "dBm", -90, -30, "link"},
    {"motor_l", "Left motor", "%", -100, 100, "motors"},
    {"motor_r", "Right motor", "%", -100, 100, "motors"},
    {"heap_kb", "Free heap", "KiB", NAN, NAN, "system"},
};

// The controls this sketch declares in hello; the core checks every change an app asks for
// against them (a toggle takes true/false, ...) and tells every phone the value it now has.
static wsdeck::ControlInfo drive_control(const char *id, wsdeck::ControlKind kind, const char *label) {
  wsdeck::ControlInfo c(id, kind, label);
  c.drive = true;  // also beside the pads on the Drive page
  return c;
}
static const wsdeck::ControlInfo CONTROLS[] = {
    drive_control("lights", wsdeck::ControlKind::Toggle, "Headlights"),
    drive_control("horn", wsdeck::ControlKind::Button, "Horn"),
};

static AsyncWebServer server(80);
static AsyncWebSocket ws("/ws");

static wsdeck::Device *device = nullptr;
// The core is not thread-safe: WebSocket events run on the AsyncTCP task, loop() on the Arduino
// task. Both hold this lock while they use it, and send only after releasing it (the library
// takes its own locks while sending, and calls us while holding them).
static SemaphoreHandle_t core_lock = nullptr;
// Frames the core produced, waiting to be sent once the lock is released. WebSocket events come
// from the AsyncTCP task, and (a client removed by cleanupClients()) from loop(): each event has
// its own queue on its stack; loop()'s watchdog has its own.
typedef wsdeck::FrameQueue<1536> EventQueue;
static wsdeck::FrameQueue<1536> loop_out;

// Per connection: where a text frame split across TCP segments is put back together. Used under
// core_lock, like the core (connect/disconnect/data on the AsyncTCP task, telemetry in loop()).
struct Conn {
  uint32_t id;  // 0: free
  bool closing; // we asked the library to close it
  char buf[MAX_INCOMING];
  wsdeck::Assembler rx;
  Conn() : id(0), closing(false), rx(buf, sizeof buf) {}
};
static Conn conns[wsdeck::kMaxClients];

static Conn *conn(uint32_t id) {
  for (Conn &c : conns) {
    if (c.id == id) return &c;
  }
  return nullptr;
}
struct CoreLock {
  CoreLock() { xSemaphoreTake(core_lock, portMAX_DELAY); }
  ~CoreLock() { xSemaphoreGive(core_lock); }
};

// ---------------------------------------------------------------------------------------------
// Motors

static void pwm_attach(int pin, uint8_t channel) {
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  (void)channel;
  ledcAttach(pin, PWM_HZ, PWM_BITS);
#else
  ledcSetup(channel, PWM_HZ, PWM_BITS);
  ledcAttachPin(pin, channel);
#endif
}

static void pwm_write(int pin, uint8_t channel, uint32_t duty) {
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  (void)channel;
  ledcWrite(pin, duty);
#else
  (void)pin;
  ledcWrite(channel, duty);
#endif
}

static void motors_begin() {
  const MotorPins *m[2] = {&LEFT, &RIGHT};
  for (uint8_t i = 0; i < 2; i++) {
    pinMode(m[i]->in1, OUTPUT);
    pinMode(m[i]->in2, OUTPUT);
    digitalWrite(m[i]->in1, LOW);
    digitalWrite(m[i]->in2, LOW);
    pwm_attach(m[i]->pwm, i);
    pwm_write(m[i]->pwm, i, 0);
  }
  if (STBY_PIN >= 0) {
    pinMode(STBY_PIN, OUTPUT);
    digitalWrite(STBY_PIN, HIGH);
  }
}

// command: -1000..1000. duty = |command| * PWM_MAX / 1000, direction from the sign; 0 brakes to
// coast (both inputs low).
static void motor_write(const MotorPins &m, uint8_t channel, int16_t command) {
  if (m.invert) command = static_cast<int16_t>(-command);
  int32_t magnitude = command < 0 ? -command : command;
  if (magnitude < MIN_COMMAND) magnitude = 0;
  if (magnitude > wsdeck::kFull) magnitude = wsdeck::kFull;
  const uint32_t duty = static_cast<uint32_t>(magnitude) * PWM_MAX / wsdeck::kFull;
  // Duty to 0 first, so that a reversal never drives the H-bridge at full duty the wrong way.
  pwm_write(m.pwm, channel, 0);
  digitalWrite(m.in1, magnitude > 0 && command > 0 ? HIGH : LOW);
  digitalWrite(m.in2, magnitude > 0 && command < 0 ? HIGH : LOW);
  pwm_write(m.pwm, channel, duty);
}

// Call with the core lock held: the PWM follows the core's state at once (a stop frame reaches
// the motors in the same event that decoded it, not at the next loop()).
static void motors_apply() {
  static wsdeck::Motors last = {0, 0};
  static bool first = true;
  const wsdeck::Motors now = device->motors();
  if (first || now.l != last.l) motor_write(LEFT, 0, now.l);
  if (first || now.r != last.r) motor_write(RIGHT, 1, now.r);
  last = now;
  first = false;
}

static void controls_begin() {
  const int pins[2] = {HEADLIGHTS_PIN, HORN_PIN};
  for (int pin : pins) {
    if (pin < 0) continue;
    pinMode(pin, OUTPUT);
    digitalWrite(pin, LOW);
  }
}

// Call with the core lock held, after the core saw an event: the outputs follow the controls.
static void controls_apply() {
  static uint32_t seen = 0;
  if (device->control_changes() == seen) return;
  seen = device->control_changes();
  if (HEADLIGHTS_PIN >= 0) digitalWrite(HEADLIGHTS_PIN, device->control_on("lights") ? HIGH : LOW);
  if (HORN_PIN >= 0) digitalWrite(HORN_PIN, device->control_on("horn") ? HIGH : LOW);
}

// ---------------------------------------------------------------------------------------------
// WebSocket

template <size_t N>
static void send_queued(wsdeck::FrameQueue<N> &q, AsyncWebSocketClient *self) {
  q.drain([self](uint32_t id, const char *text, size_t len) {
    if (self && self->id() == id) {
      self->text(text, len);
    } else {
      ws.text(id, text, len);
    }
  });
}

// Closes a connection once, with a close frame saying why (the app shows it).
static void close_once(AsyncWebSocketClient *client, Conn *c, uint16_t code, const char *reason) {
  if (c) {
    if (c->closing) return;
    c->closing = true;
  }
  client->close(code, reason);
}

// After the core saw something from this client: close it when it broke a limit. Lock held.
static void close_if_wanted(AsyncWebSocketClient *client, Conn *c) {
  uint16_t code = 0;
  const char *reason = nullptr;
  if (device->close_wanted(client->id(), code, reason)) close_once(client, c, code, reason);
}

static void on_ws_event(AsyncWebSocket *, AsyncWebSocketClient *client, AwsEventType type, void *arg,
                        uint8_t *data, size_t len) {
  EventQueue out;
  switch (type) {
    case WS_EVT_CONNECT: {
      // Small frames (pong, stop) must not wait for Nagle's algorithm.
      if (client->client()) client->client()->setNoDelay(true);
      // A client whose send queue is full misses a frame (telemetry comes again 50 ms later)
      // rather than being closed: the library's default would drop a driver over one slow moment.
      client->setCloseClientOnQueueFull(false);
      // Wrong pairing tokens are counted per remote address (IPv4 as a number).
      const uint64_t remote = static_cast<uint32_t>(client->remoteIP());
      bool accepted;
      // With every place taken, a silent or unpaired client makes room (the core picks it), so
      // sockets that never pair or never speak cannot lock the owner's phone out.
      uint32_t evicted = 0;
      {
        CoreLock lock;
        accepted = device->on_open(client->id(), remote, millis(), out, &evicted);
        if (Conn *gone = evicted ? conn(evicted) : nullptr) {
          gone->id = 0;
          gone->rx.reset();
        }
        Conn *c = accepted ? conn(0) : nullptr;
        if (c) {
          c->id = client->id();
          c->closing = false;
          c->rx.reset();
        } else if (accepted) {
          // More connections than Conn slots (cannot happen: both are MAX_CLIENTS at most).
          device->on_close(client->id(), millis(), out);
          accepted = false;
        }
      }
      if (evicted) ws.close(evicted, wsdeck::kClosePolicy, "evicted: a new connection needed the place");
      if (!accepted) {
        char why[48];
        snprintf(why, sizeof why, "too many clients (%u connected)", static_cast<unsigned>(MAX_CLIENTS));
        client->close(wsdeck::kCloseTryLater, why);
        return;
      }
      send_queued(out, client);
      break;
    }
    case WS_EVT_DISCONNECT: {
      {
        CoreLock lock;
        Conn *c = conn(client->id());
        if (c) c->id = 0;
        device->on_close(client->id(), millis(), out);
        motors_apply();
        controls_apply();
      }
      send_queued(out, nullptr);
      break;
    }
    case WS_EVT_DATA: {
      const AwsFrameInfo *info = static_cast<const AwsFrameInfo *>(arg);
      if (info->opcode == WS_BINARY) {
        if (info->index == 0) {
          CoreLock lock;
          device->on_binary(client->id(), millis());
          close_if_wanted(client, conn(client->id()));
        }
        return;
      }
      // Continuations: the first fragment already closed the connection (1003).
      if (info->opcode != WS_TEXT) return;
      {
        // millis() is read under the lock, so the core never sees time run backwards.
        CoreLock lock;
        Conn *c = conn(client->id());
        if (c == nullptr) return;  // refused at connect, being closed
        // info->len is the whole frame's length, known from its header: a frame over
        // MAX_INCOMING is refused before its payload is read.
        switch (c->rx.feed(info->len, info->index, info->final, info->num, reinterpret_cast<const char *>(data), len)) {
          case wsdeck::Assembler::Pending: return;
          case wsdeck::Assembler::TooLarge:
            if (info->index == 0) device->on_too_large(client->id());
            close_if_wanted(client, c);
            return;
          case wsdeck::Assembler::Unsupported:
            close_once(client, c, wsdeck::kCloseUnsupported, "fragmented messages are not supported");
            return;
          case wsdeck::Assembler::Ready: break;
        }
        device->on_frame(client->id(), c->rx.frame(), c->rx.frame_len(), millis(), out);
        motors_apply();
        controls_apply();
        close_if_wanted(client, c);
      }
      send_queued(out, client);
      break;
    }
    default: break;  // WS_EVT_PING / PONG / ERROR: the library answers pings itself
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP: the handshake guard and the app's files

static size_t count(const char *const *list) {
  size_t n = 0;
  while (list[n]) n++;
  return n;
}

static wsdeck::Guard guard(AsyncWebServerRequest *request) {
  const char *origin = request->hasHeader("Origin") ? request->header("Origin").c_str() : nullptr;
  const char *host = request->hasHeader("Host") ? request->host().c_str() : nullptr;
  return wsdeck::check_handshake(host, origin, ALLOW_ORIGINS, count(ALLOW_ORIGINS), ALLOW_HOSTS,
                                 count(ALLOW_HOSTS));
}

// Refused handshakes get 403 and a sentence saying what would allow them.
static void refuse(AsyncWebServerRequest *request) {
  String why;
  if (guard(request) == wsdeck::Guard::BadHost) {
    why = String("refused: this device does not answer to the name `") + request->host() +
          "` (add it to ALLOW_HOSTS in wsdeck_car.ino)\n";
  } else {
    why = String("refused: a page from ") + request->header("Origin") +
          " may not control this device (add it to ALLOW_ORIGINS in wsdeck_car.ino)\n";
  }
  request->send(403, "text/plain", why);
}

static void serve_asset(AsyncWebServerRequest *request) {
  if (request->url() == "/ws") {
    if (guard(request) != wsdeck::Guard::Ok) {
      refuse(request);
    } else {
      request->send(426, "text/plain", "this is the wsdeck WebSocket endpoint: connect with ws://\n");
    }
    return;
  }
  // GET only: the library would send HEAD the whole body, and a HEAD answer without one would
  // have to carry the GET's Content-Length, which it cannot set. Browsers never send HEAD here.
  if (request->method() != HTTP_GET) {
    AsyncWebServerResponse *r = request->beginResponse(405, "text/plain", "only GET is served\n");
    r->addHeader("Allow", "GET");
    request->send(r);
    return;
  }
#if WSDECK_HAVE_ASSETS
  const wsdeck_asset_t *asset = wsdeck_find_asset(request->url().c_str());
  if (asset == nullptr) {
    request->send(404, "text/plain", "not found\n");
    return;
  }
  const char *tags = request->hasHeader("If-None-Match") ? request->header("If-None-Match").c_str() : nullptr;
  AsyncWebServerResponse *r;
  if (wsdeck::etag_matches(tags, asset->etag)) {
    r = request->beginResponse(304);
  } else {
    // Flash is memory-mapped on the ESP32: the response reads the array in place.
    r = request->beginResponse(200, asset->mime, asset->gzip, asset->gzip_len);
    r->addHeader("Content-Encoding", "gzip");
  }
  r->addHeader("ETag", asset->etag);
  r->addHeader("Cache-Control", asset->cache_control);
  r->addHeader("X-Content-Type-Options", "nosniff");
  if (asset->csp != nullptr) {
    // Scripts only from the car, the page's bootstrap by its hash: docs/SECURITY.md.
    r->addHeader("Content-Security-Policy", asset->csp);
  }
  request->send(r);
#else
  AsyncWebServerResponse *r = request->beginResponse(
      503, "text/html",
      "<!doctype html><meta name=viewport content=\"width=device-width\"><title>wsdeck car</title>"
      "<body style=\"font:16px system-ui;margin:2em\"><h1>The car is running</h1>"
      "<p>The app is not in this build. In the wsdeck repository run <code>cargo xtask dist</code>, copy "
      "<code>target/flash/wsdeck_assets.h</code> next to <code>wsdeck_car.ino</code> and upload again.</p>"
      "<p>The WebSocket endpoint <code>/ws</code> works already.</p>");
  r->addHeader("Cache-Control", "no-store");
  request->send(r);
#endif
}

// ---------------------------------------------------------------------------------------------
// WiFi

static void wifi_begin() {
#if WSDECK_SOFTAP
  WiFi.mode(WIFI_AP);
  // As many stations as phones may connect (the access point lets in 4 by default).
  WiFi.softAP(AP_SSID, AP_PASSWORD, AP_CHANNEL, 0, static_cast<int>(MAX_CLIENTS));
  Serial.printf("wsdeck: joined by phones on WiFi \"%s\"; open http://%s/\n", AP_SSID,
                WiFi.softAPIP().toString().c_str());
#else
  // The hostname first: on Arduino core 2.0.x it is taken when the station interface starts, so
  // one set after WiFi.mode() never reaches DHCP.
  WiFi.setHostname(HOSTNAME);
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  WiFi.begin(STA_SSID, STA_PASSWORD);
  Serial.printf("wsdeck: joining \"%s\"", STA_SSID);
  const uint32_t started = millis();
  while (WiFi.status() != WL_CONNECTED && millis() - started < 20000) {
    delay(250);
    Serial.print('.');
  }
  Serial.println();
  if (WiFi.status() == WL_CONNECTED) {
    Serial.printf("wsdeck: open http://%s/ or http://%s.local/\n", WiFi.localIP().toString().c_str(), HOSTNAME);
  } else {
    Serial.println("wsdeck: not connected yet; still trying (check STA_SSID / STA_PASSWORD)");
  }
  if (MDNS.begin(HOSTNAME)) MDNS.addService("http", "tcp", 80);
#endif
  // Modem sleep adds tens of milliseconds to every frame: a stop would arrive late.
  WiFi.setSleep(false);
}

// ---------------------------------------------------------------------------------------------

void setup() {
  Serial.begin(115200);
  motors_begin();  // first: the motors are stopped before anything else can go wrong
  controls_begin();

  core_lock = xSemaphoreCreateMutex();
  static wsdeck::Config config;  // the Device keeps a copy; static keeps it off the stack
  config.name = CAR_NAME;
  config.watchdog_ms = WATCHDOG_MS;
  config.telemetry = TELEMETRY_HZ > 0;
  config.series = SERIES;
  config.series_count = sizeof SERIES / sizeof SERIES[0];
  config.max_frame_len = MAX_INCOMING;
  config.pairing_token = PAIRING_TOKEN;
  config.pairing_mode = PAIRING_MODE;
  config.max_msg_rate = MAX_MSG_RATE;
  config.max_clients = MAX_CLIENTS;
  config.controls = CONTROLS;
  config.control_count = sizeof CONTROLS / sizeof CONTROLS[0];
  static wsdeck::Device the_device(config);  // ~4 KB, in .bss rather than on the heap
  device = &the_device;
  if (BATTERY_PIN >= 0) analogSetPinAttenuation(BATTERY_PIN, ADC_11db);

  wifi_begin();

  ws.onEvent(on_ws_event);
  // A handshake the guard refuses is not the socket's: it falls through to serve_asset, which
  // answers 403 with a sentence.
  ws.setFilter([](AsyncWebServerRequest *r) { return guard(r) == wsdeck::Guard::Ok; });
  server.addHandler(&ws);
  server.onNotFound(serve_asset);
  server.begin();
  Serial.printf("wsdeck: %s ready, watchdog %lu ms, telemetry %lu Hz, pairing %s\n", CAR_NAME,
                static_cast<unsigned long>(WATCHDOG_MS), static_cast<unsigned long>(TELEMETRY_HZ),
                the_device.pairing() ? wsdeck::pairing_name(PAIRING_MODE) : "off");
}

static void send_telemetry(uint32_t now) {
  static char frame[256];
  wsdeck::Motors m;
  // Who may have it: with pairing REQUIRED, only clients that sent the token.
  uint32_t to[wsdeck::kMaxClients];
  size_t n_to = 0;
  {
    CoreLock lock;
    m = device->motors();
    for (const Conn &c : conns) {
      if (c.id != 0 && !c.closing && device->may_receive_telemetry(c.id)) to[n_to++] = c.id;
    }
  }
  if (n_to == 0) return;
  wsdeck::TelFrame tel(frame, sizeof frame);
  tel.ms(now);
  if (BATTERY_PIN >= 0) tel.add("battery_v", analogReadMilliVolts(BATTERY_PIN) * BATTERY_DIVIDER / 1000.0);
  if (WiFi.getMode() == WIFI_STA && WiFi.status() == WL_CONNECTED) tel.add("rssi_dbm", WiFi.RSSI());
  tel.add("motor_l", m.l / 10.0);
  tel.add("motor_r", m.r / 10.0);
  tel.add("heap_kb", ESP.getFreeHeap() / 1024);
  const size_t len = tel.finish();
  // A client whose queue is full skips this frame (setCloseClientOnQueueFull(false) on connect:
  // the library drops it) rather than stalling or being closed.
  for (size_t i = 0; len > 0 && i < n_to; i++) ws.text(to[i], frame, len);
}

void loop() {
  // The watchdog: as often as loop() runs, so a lost phone stops the car watchdog_ms after its
  // last drive frame, give or take a millisecond.
  uint32_t stops;
  {
    CoreLock lock;
    device->tick(millis(), loop_out);
    motors_apply();
    controls_apply();
    stops = device->stop_count();
  }
  send_queued(loop_out, nullptr);

  static uint32_t stops_logged = 0;
  if (stops != stops_logged) {
    char why[48];
    wsdeck::StopRecord last;
    {
      CoreLock lock;
      last = device->stop(device->stops_kept() - 1);
    }
    why[wsdeck::describe_stop(last, why, sizeof why)] = '\0';
    Serial.printf("wsdeck: stop at %lu ms: %s\n", static_cast<unsigned long>(last.at_ms), why);
    stops_logged = stops;
  }

  const uint32_t now = millis();
  static uint32_t next_tel = 0;
  if (TELEMETRY_HZ > 0 && static_cast<int32_t>(now - next_tel) >= 0) {
    next_tel = now + TELEMETRY_PERIOD_MS;
    if (ws.count() > 0) send_telemetry(now);
  }
  static uint32_t next_cleanup = 0;
  if (static_cast<int32_t>(now - next_cleanup) >= 0) {
    next_cleanup = now + 1000;
    ws.cleanupClients(static_cast<uint16_t>(MAX_CLIENTS));  // frees closed clients, closes the oldest beyond MAX_CLIENTS
  }
  delay(1);  // lets the idle task run (task watchdog); the car's watchdog is in milliseconds anyway
}
