//! The status bar: link state, device name, round-trip time and message rate, always in view; and
//! for a device that cannot be pinged, that it is not, and how long it has been silent.

use super::session::{LinkState, Status};
use super::Connection;
use leptos::prelude::*;

#[component]
pub fn StatusBar() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let status = conn.status;
    let state = move || status.with(|s| s.state);
    let label = move || status.with(link_label);
    let name = move || status.with(|s| s.device_name.clone().unwrap_or_else(|| host_of(&s.url).to_string()));
    let no_heartbeat = move || status.with(|s| s.state == LinkState::Connected && !s.speaks_v1);
    let rtt = move || {
        status.with(|s| match s.rtt_ms {
            Some(r) => format!("{r:.0} ms"),
            None if no_heartbeat() => "no heartbeat".into(),
            None => "– ms".into(),
        })
    };
    let rtt_title = move || {
        if no_heartbeat() {
            "no heartbeat: this device does not answer pings, so the round-trip time is not known"
        } else {
            "round-trip time (median)"
        }
    };
    let why = move || status.with(|s| s.diagnosis.clone());
    let rate = move || status.with(|s| format!("{}/s", s.rate));
    let lost = move || offers_other_address(state());
    view! {
        <header class="status" data-testid="status" data-state=move || state().name()
            data-heartbeat=move || if no_heartbeat() { "off" } else { "on" }
            data-silent=move || status.with(|s| s.silent_s.is_some()).then_some("")>
            <span class="dot" aria-hidden="true"></span>
            <div class="who">
                <strong class="name" data-testid="device-name">{name}</strong>
                <span class="state" data-testid="link-state" role="status">{label}</span>
                <Show when=move || why().is_some()>
                    <a class="why" href="#/device" data-testid="link-why" title=move || why().unwrap_or_default()>
                        {move || why().unwrap_or_default()}
                    </a>
                </Show>
            </div>
            <Show when=lost>
                <a class="status-link" href="#/settings" data-testid="change-device">"Address"</a>
            </Show>
            <div class="figures">
                <span title=rtt_title data-testid="rtt">{rtt}</span>
                <span title="frames per second from the device" data-testid="rate">{rate}</span>
            </div>
        </header>
    }
}

/// The words under the device name, for the whole status: a connected device that cannot be
/// pinged says so, and after a few silent seconds the link is "unknown", not "connected".
pub fn link_label(status: &Status) -> String {
    match (status.state, status.silent_s) {
        (LinkState::Connected, Some(s)) => format!("Link unknown · silent for {s} s"),
        (LinkState::Connected, None) if !status.speaks_v1 => "Connected · no heartbeat".into(),
        (state, _) => state_label(state),
    }
}

/// The words under the device name. A device that has never answered on this address is
/// "unreachable" from its first failed attempt: the app may have been opened away from it (an
/// installed app starts without the device), and the person should know it is not just slow.
pub fn state_label(state: LinkState) -> String {
    let retry = |word: &str, attempt: u32, retry_in_ms: Option<f64>| match retry_in_ms {
        Some(ms) => format!("{word} · attempt {attempt} in {:.1} s", ms / 1000.0),
        None if attempt > 1 => format!("{word} · attempt {attempt}…"),
        None => format!("{word}…"),
    };
    match state {
        LinkState::Connected => "Connected".into(),
        LinkState::Connecting { attempt: 1, retry_in_ms } => retry("Connecting", 1, retry_in_ms),
        LinkState::Connecting { attempt, retry_in_ms } => retry("Device unreachable", attempt, retry_in_ms),
        LinkState::Reconnecting { attempt, retry_in_ms } => retry("Reconnecting", attempt, retry_in_ms),
        LinkState::Offline => "Offline · retrying when the network is back".into(),
    }
}

/// Whether the status bar offers a way to another address: once the device did not answer.
pub fn offers_other_address(state: LinkState) -> bool {
    match state {
        LinkState::Connected => false,
        LinkState::Connecting { attempt, .. } => attempt > 1,
        LinkState::Reconnecting { .. } | LinkState::Offline => true,
    }
}

/// `car.local:81` from `ws://car.local:81/ws`.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_naturally() {
        assert_eq!(state_label(LinkState::Connected), "Connected");
        assert_eq!(state_label(LinkState::Connecting { attempt: 1, retry_in_ms: None }), "Connecting…");
        assert_eq!(
            state_label(LinkState::Connecting { attempt: 2, retry_in_ms: Some(800.0) }),
            "Device unreachable · attempt 2 in 0.8 s"
        );
        assert_eq!(state_label(LinkState::Offline), "Offline · retrying when the network is back");
        assert_eq!(
            state_label(LinkState::Reconnecting { attempt: 3, retry_in_ms: Some(1200.0) }),
            "Reconnecting · attempt 3 in 1.2 s"
        );
        assert_eq!(
            state_label(LinkState::Reconnecting { attempt: 2, retry_in_ms: None }),
            "Reconnecting · attempt 2…"
        );
    }

    #[test]
    fn a_device_without_heartbeat_is_never_shown_as_fine_when_silent() {
        let (mut session, _) = crate::connection::session::Session::new("ws://10.0.0.2/ws".into(), 0.0);
        session.on_open(0.0, None);
        assert_eq!(link_label(&session.status(100.0)), "Connected · no heartbeat");
        assert_eq!(link_label(&session.status(4500.0)), "Link unknown · silent for 4 s");
        session.on_text(4600.0, r#"{"t":"hello"}"#);
        assert_eq!(link_label(&session.status(4700.0)), "Connected");
    }

    #[test]
    fn another_address_is_offered_once_the_device_does_not_answer() {
        assert!(!offers_other_address(LinkState::Connected));
        assert!(!offers_other_address(LinkState::Connecting { attempt: 1, retry_in_ms: None }));
        assert!(offers_other_address(LinkState::Connecting { attempt: 2, retry_in_ms: None }));
        assert!(offers_other_address(LinkState::Reconnecting { attempt: 1, retry_in_ms: None }));
        assert!(offers_other_address(LinkState::Offline));
    }

    #[test]
    fn host_is_taken_from_the_url() {
        assert_eq!(host_of("ws://car.local:81/ws"), "car.local:81");
        assert_eq!(host_of("wss://x.y"), "x.y");
    }
}
