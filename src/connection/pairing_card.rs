//! Asks the person for the device's pairing token when the device wants one and the app has
//! none (or had a wrong one). Shown above every page: the device shows nothing until paired.

use super::pairing::PairingStatus;
use super::Connection;
use leptos::prelude::*;
use wsdeck_protocol::PairingMode;

#[component]
pub fn PairingCard() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let pairing = Memo::new(move |_| conn.status.with(|s| s.pairing.clone()));
    let name = Memo::new(move |_| {
        conn.status.with(|s| s.device_name.clone().unwrap_or_else(|| "This device".into()))
    });
    let token = RwSignal::new(String::new());
    // Seconds left before the device looks at another token (the status refreshes every second).
    let wait_s = move || {
        conn.second.track();
        match pairing.get() {
            PairingStatus::Needed { retry_at_ms: Some(t), .. } => {
                ((t - crate::dom::now_ms()) / 1000.0).ceil().max(0.0) as u64
            }
            _ => 0,
        }
    };
    let submit = move || conn.submit_token(&token.get_untracked());
    let message = move || match pairing.get() {
        PairingStatus::Needed { wrong: true, .. } => match wait_s() {
            0 => "That token was wrong. Try again.".to_string(),
            s => format!("That token was wrong. The device takes another in {s} s."),
        },
        PairingStatus::Needed { mode: PairingMode::Control, .. } => {
            format!(
                "{} asks for its pairing token before it can be driven. You can watch without it.",
                name.get()
            )
        }
        PairingStatus::Needed { .. } => format!("{} asks for its pairing token.", name.get()),
        PairingStatus::Sent { .. } => "Checking the token...".to_string(),
        _ => String::new(),
    };
    view! {
        // Not a <form>: the page's other forms (Settings) are found by tests and by assistive
        // tools as the page's form; Enter in the field submits all the same.
        <section class="card pairing" data-testid="pairing" hidden=move || !pairing.with(PairingStatus::blocks_control)>
            <h2>"Pairing"</h2>
            <p data-testid="pairing-message">{message}</p>
            <div class="pairing-row">
                <input type="password" autocomplete="current-password" maxlength="64" placeholder="Pairing token"
                    aria-label="Pairing token" data-testid="pairing-token"
                    prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { submit() }/>
                <button type="button" data-testid="pairing-submit" on:click=move |_| submit()
                    prop:disabled={move || wait_s() > 0 || matches!(pairing.get(), PairingStatus::Sent { .. })}>"Pair"</button>
            </div>
            <p class="hint">"The token is set in the device's firmware. It is kept on this phone for this device's address."</p>
        </section>
    }
}
