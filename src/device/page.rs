//! The Device page: what the device said in `hello`, the link's counters, the frames it sent that
//! the app could not use, and the event log.

use super::log::Origin;
use crate::connection::Connection;
use crate::dom;
use leptos::prelude::*;

#[component]
pub fn DevicePage() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let status = conn.status;
    let device = move || {
        status.track();
        conn.with_session(|s| s.device().cloned()).flatten()
    };
    let field = move |f: fn(&wsdeck_protocol::Hello) -> String| {
        move || device().map(|h| f(&h)).unwrap_or_else(|| "–".into())
    };
    let counter =
        move |f: fn(&crate::connection::session::Counters) -> u64| move || status.with(|s| f(&s.counters));
    view! {
        <section class="card">
            <h2>"Device"</h2>
            <dl class="facts">
                <dt>"Name"</dt><dd data-testid="hello-name">{field(|h| h.name.clone())}</dd>
                <dt>"Address"</dt><dd>{move || status.with(|s| s.url.clone())}</dd>
                <dt>"Protocol"</dt><dd>{field(|h| format!("v{}", h.v))}</dd>
                <dt>"Capabilities"</dt><dd>{field(|h| if h.caps.is_empty() { "none".into() } else { h.caps.join(", ") })}</dd>
                <dt>"Watchdog"</dt><dd>{field(|h| h.watchdog_ms.map(|w| format!("{w} ms")).unwrap_or_else(|| "–".into()))}</dd>
            </dl>
            <Show when=move || device().is_none()>
                <p class="hint" data-testid="no-hello">{move || if status.with(|s| s.speaks_v1) {
                    "This device has not sent a hello; its telemetry still shows."
                } else {
                    "This device has not said it speaks wsdeck: the app sends it only what you do \
                     (drive words, messages set in Settings), no heartbeat. Its telemetry still shows."
                }}</p>
            </Show>
            <Show when=move || status.with(|s| s.diagnosis.is_some())>
                <p class="hint" data-testid="diagnosis">{move || status.with(|s| s.diagnosis.clone())}</p>
            </Show>
        </section>
        <section class="card">
            <h2>"Link"</h2>
            <dl class="facts">
                <dt>"Round trip"</dt><dd>{move || status.with(|s| match s.rtt_ms {
                    Some(r) => format!("{r:.1} ms"),
                    None if !s.speaks_v1 => "no heartbeat: this device does not answer pings".into(),
                    None => "–".into(),
                })}</dd>
                <dt>"Frames / s"</dt><dd>{move || status.with(|s| s.rate)}</dd>
                <dt>"Frames"</dt><dd data-testid="frames">{counter(|c| c.frames)}</dd>
                <dt>"Malformed"</dt><dd data-testid="malformed">{counter(|c| c.malformed)}</dd>
                <dt>"Too large"</dt><dd data-testid="oversized">{counter(|c| c.oversized)}</dd>
                <dt>"Binary"</dt><dd>{counter(|c| c.binary)}</dd>
                <dt>"Unknown type"</dt><dd>{counter(|c| c.unknown)}</dd>
                <dt>"Not telemetry"</dt><dd data-testid="ignored">{counter(|c| c.ignored)}</dd>
            </dl>
        </section>
        <UnusedFrames/>
        <EventLogView/>
    }
}

/// What the app made of the frames it could not use, one line per kind with its count.
#[component]
fn UnusedFrames() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let rows = move || {
        conn.log_version.track();
        conn.status.track();
        conn.with_session(|s| {
            s.unused()
                .iter()
                .rev()
                .map(|u| {
                    let count = if u.count > 1 { format!(" ×{}", u.count) } else { String::new() };
                    view! { <li><code>{u.preview.clone()}</code>" "{u.why.clone()}{count}</li> }
                })
                .collect_view()
        })
    };
    view! {
        <section class="card" hidden=move || {
            conn.log_version.track();
            conn.with_session(|s| s.unused().is_empty()).unwrap_or(true)
        }>
            <h2>"Frames it could not use"</h2>
            <ul class="unused" data-testid="unused">{rows}</ul>
        </section>
    }
}

#[component]
fn EventLogView() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let lines = move || {
        conn.log_version.track();
        conn.with_session(|s| {
            s.log()
                .entries()
                .rev()
                .map(|e| {
                    let origin = if e.origin == Origin::Device { "device" } else { "app" };
                    let count = if e.count > 1 { format!(" ×{}", e.count) } else { String::new() };
                    view! {
                        <li class=format!("log-{}", e.level.as_str()) data-origin=origin>
                            <time>{dom::clock(e.at_ms)}</time>
                            <span class="text">{e.text.clone()}{count}</span>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h2>"Event log"</h2>
                <button class="small" on:click=move |_| { conn.with_session_mut(|s| s.log_mut().clear()); }>"Clear"</button>
            </div>
            <ol class="log" data-testid="event-log">{lines}</ol>
        </section>
    }
}
