//! Settings: which address to connect to, how to drive, and whether the app can be installed.

use crate::connection::url::{self, Source};
use crate::connection::Connection;
use crate::drive::controller::Dialect;
use crate::drive::settings::{parse_words, DriveSettings};
use leptos::prelude::*;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let current = move || conn.status.with(|s| s.url.clone());
    let input = RwSignal::new(current());
    let error = RwSignal::new(None::<String>);
    let secure =
        crate::dom::window().and_then(|w| w.location().protocol().ok()).is_some_and(|p| p == "https:");
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match url::normalize(&input.get_untracked(), secure) {
            Ok(url) => {
                error.set(None);
                input.set(url.clone());
                conn.choose_url(Some(url));
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let reset = move |_| {
        conn.choose_url(None);
        error.set(None);
        input.set(current());
    };
    let source = move || {
        conn.status.track();
        match conn.url_source().0 {
            Source::Query => "from ?ws= in the page address",
            Source::Saved => "saved on this phone",
            Source::PageHost => "the device that served this page",
        }
    };
    let default_url = conn.url_source().1;
    let install = use_context::<crate::pwa::Pwa>().map(|p| p.support.hint());
    view! {
        <section class="card">
            <h2>"Device address"</h2>
            <form class="url-form" on:submit=save>
                <label for="ws-url">"WebSocket address"</label>
                <input id="ws-url" name="ws-url" type="text" inputmode="url" autocomplete="off"
                    autocapitalize="off" spellcheck="false" placeholder=default_url.clone()
                    prop:value=move || input.get()
                    on:input=move |ev| input.set(event_target_value(&ev))/>
                <p class="error" role="alert" data-testid="url-error">{move || error.get()}</p>
                <div class="buttons">
                    <button type="submit">"Connect"</button>
                    <button type="button" class="secondary" on:click=reset>"Use default"</button>
                </div>
            </form>
            <p class="hint">
                "Now: " <code data-testid="current-url">{current}</code> " (" {source} "). Default: "
                <code>{default_url}</code> ". An IP or host name is enough, e.g. 192.168.4.1."
            </p>
        </section>
        <DrivingSettings/>
        <section class="card">
            <h2>"About"</h2>
            <p class="hint">"wsdeck " {env!("CARGO_PKG_VERSION")} ", protocol v" {wsdeck_protocol::VERSION} "."</p>
            <p class="hint" data-testid="install-hint">{install}</p>
        </section>
    }
}

/// How the Drive page talks to the device: send rate, and the words of a tutorial car.
#[component]
fn DrivingSettings() -> impl IntoView {
    let saved = DriveSettings::load();
    let rate = RwSignal::new(saved.rate_hz.to_string());
    let (words_on, words) = match &saved.dialect {
        Dialect::Words(w) => (true, w.join(",")),
        Dialect::Json => (false, Dialect::default_words().join(",")),
    };
    let words_on = RwSignal::new(words_on);
    let words = RwSignal::new(words);
    let message = RwSignal::new(String::new());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(hz) =
            wsdeck_protocol::parse_f64(rate.get_untracked().trim()).filter(|r| (5.0..=100.0).contains(r))
        else {
            message.set("Frames per second must be a number from 5 to 100.".into());
            return;
        };
        let chosen = if words_on.get_untracked() {
            match parse_words(&words.get_untracked()) {
                Some(w) => Some(w),
                None => {
                    message.set("Give five words, separated by commas: up, down, left, right, stop.".into());
                    return;
                }
            }
        } else {
            None
        };
        DriveSettings::save_rate(hz);
        DriveSettings::save_words(chosen.as_ref());
        message.set("Saved. The Drive page uses it from now on.".into());
    };
    view! {
        <section class="card">
            <h2>"Driving"</h2>
            <form class="url-form" on:submit=save>
                <label for="drive-rate">"Motion frames per second (while a control is held)"</label>
                <input id="drive-rate" type="number" min="5" max="100" step="1" inputmode="numeric"
                    prop:value=move || rate.get() on:input=move |ev| rate.set(event_target_value(&ev))/>
                <label class="check">
                    <input id="words-on" type="checkbox" prop:checked=move || words_on.get()
                        on:change=move |ev| words_on.set(event_target_checked(&ev))/>
                    " The device takes plain words (tutorial cars), not wsdeck frames"
                </label>
                <input id="drive-words" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
                    prop:disabled=move || !words_on.get() prop:value=move || words.get()
                    on:input=move |ev| words.set(event_target_value(&ev))/>
                <p class="hint">"Words for up, down, left, right and stop, in that order."</p>
                <p class="error" role="status" data-testid="drive-settings-message">{move || message.get()}</p>
                <div class="buttons"><button type="submit">"Save"</button></div>
            </form>
        </section>
    }
}
