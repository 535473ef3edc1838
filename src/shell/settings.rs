//! Settings: which address to connect to, how to drive, and whether the app can be installed.

use crate::connection::url::{self, Source};
use crate::connection::Connection;
use crate::device::prefs::{self, DevicePrefs, WORD_SETS};
use crate::drive::prefs::DrivePrefs;
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
        {broker_card()}
        <DrivingSettings/>
        <section class="card">
            <h2>"About"</h2>
            <p class="hint">"wsdeck " {env!("CARGO_PKG_VERSION")} ", protocol v" {wsdeck_protocol::VERSION} "."</p>
            <p class="hint" data-testid="install-hint">{install}</p>
        </section>
    }
}

/// How the Drive page talks to the device: the send rate (this phone, every device) and, for the
/// device at the current address, its plain words, extra words and message on connect.
#[component]
fn DrivingSettings() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let url = Memo::new(move |_| conn.status.with(|s| s.url.clone()));
    let rate = RwSignal::new(DrivePrefs::load().rate_hz.to_string());
    let saved = RwSignal::new(prefs::load(&url.get_untracked()));
    let words_on = RwSignal::new(false);
    let words = RwSignal::new(String::new());
    let extra = RwSignal::new(String::new());
    let on_connect = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let words_field = NodeRef::<leptos::html::Input>::new();
    let fill = move |p: &DevicePrefs| {
        words_on.set(p.words.is_some());
        words.set(p.words.as_ref().map_or_else(|| WORD_SETS[0].join(", "), |w| w.join(", ")));
        extra.set(prefs::extra_text(&p.extra, ", "));
        on_connect.set(p.on_connect.clone().unwrap_or_default());
    };
    saved.with_untracked(fill);
    // Another address is another device: the form shows its own words.
    Effect::new(move |first: Option<()>| {
        let url = url.get();
        if first.is_some() {
            let p = prefs::load(&url);
            fill(&p);
            saved.set(p);
            message.set(String::new());
        }
    });
    let keep = move |p: DevicePrefs, note: String| {
        prefs::save(&url.get_untracked(), &p);
        fill(&p);
        saved.set(p);
        message.set(note);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(hz) =
            wsdeck_protocol::parse_f64(rate.get_untracked().trim()).filter(|r| (5.0..=100.0).contains(r))
        else {
            message.set("Frames per second must be a number from 5 to 100.".into());
            return;
        };
        let edited = saved.with_untracked(|p| {
            p.from_form(
                words_on.get_untracked(),
                &words.get_untracked(),
                &extra.get_untracked(),
                &on_connect.get_untracked(),
            )
        });
        match edited {
            Ok(p) => {
                DrivePrefs::save_rate(hz);
                // A message newly set to go out on connect goes out now too: the device is
                // waiting for it on this connection (a sensor tutorial's `getReadings`).
                let before = saved.with_untracked(|old| old.on_connect.clone());
                let sent_now = match &p.on_connect {
                    Some(msg) if before.as_ref() != Some(msg) && conn.send(msg) => {
                        format!(" Sent `{msg}` now.")
                    }
                    _ => String::new(),
                };
                keep(p, format!("Saved. The Drive page uses it from now on.{sent_now}"));
            }
            Err(e) => message.set(e.text().into()),
        }
    };

    // A device that never said hello and sends text that is not JSON is most likely a tutorial
    // car: one tap gives it words.
    let hints = Memo::new(move |_| conn.status.with(|s| (s.speaks_v1, s.counters.not_json, s.quick_closes)));
    let offer = move || {
        let (speaks_v1, not_json, quick) = hints.get();
        saved.with(|p| prefs::offers_words(speaks_v1, not_json, quick, p))
    };
    let why_words = move || {
        let (_, not_json, quick) = hints.get();
        if not_json > 0 {
            format!("It has not said hello and sends text that is not JSON ({not_json} frames so far, such as OK).")
        } else {
            format!("It has not said hello and closed the connection right after the app's first frame ({quick} times).")
        }
    };
    let take = move |set: [&'static str; 5]| {
        let p = DevicePrefs { chosen: true, words: Some(set.map(String::from)), ..saved.get_untracked() };
        keep(p, format!("Saved: this device gets the words {} from now on.", set.join(", ")));
    };
    let other_words = move |_| {
        words_on.set(true);
        if let Some(field) = words_field.get_untracked() {
            let _ = field.focus();
        }
    };
    let decline = move |_| {
        let p = DevicePrefs { chosen: true, words: None, ..saved.get_untracked() };
        keep(p, "Saved: this device gets wsdeck frames.".into());
    };
    let offer_view = move || {
        offer().then(|| {
            let sets = WORD_SETS
                .map(|set| view! { <button type="button" on:click=move |_| take(set)>{set.join(", ")}</button> });
            view! {
                <div class="offer" role="group" aria-labelledby="words-offer-q" data-testid="words-offer">
                    <p id="words-offer-q"><strong>"This device takes plain words?"</strong></p>
                    <p class="hint">
                        {why_words} " Tutorial cars take one word per command: pick its words."
                    </p>
                    <div class="buttons">
                        {sets.into_iter().collect_view()}
                        <button type="button" class="secondary" on:click=other_words>"Other words"</button>
                        <button type="button" class="secondary" on:click=decline>"No, it speaks wsdeck"</button>
                    </div>
                </div>
            }
        })
    };
    view! {
        <section class="card">
            <h2>"Driving"</h2>
            {offer_view}
            <form class="url-form" on:submit=save>
                <label for="drive-rate">"Motion frames per second (while a control is held, every device)"</label>
                <input id="drive-rate" type="number" min="5" max="100" step="1" inputmode="numeric"
                    prop:value=move || rate.get() on:input=move |ev| rate.set(event_target_value(&ev))/>
                <p class="hint">"For the device at " <code data-testid="prefs-url">{move || url.get()}</code> ":"</p>
                <label class="check">
                    <input id="words-on" type="checkbox" prop:checked=move || words_on.get()
                        on:change=move |ev| words_on.set(event_target_checked(&ev))/>
                    " The device takes plain words (tutorial cars), not wsdeck frames"
                </label>
                <label for="drive-words">"Words for up, down, left, right and stop, in that order"</label>
                <input id="drive-words" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
                    node_ref=words_field prop:disabled=move || !words_on.get() prop:value=move || words.get()
                    on:input=move |ev| words.set(event_target_value(&ev))/>
                <label for="drive-extra">"Extra words, shown as buttons on the Drive page and, for a device that declares no controls, the Controls page (optional; label=text names one)"</label>
                <input id="drive-extra" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
                    placeholder="slow-speed, Lights=toggle, 1s50"
                    prop:value=move || extra.get() on:input=move |ev| extra.set(event_target_value(&ev))/>
                <label for="drive-on-connect">"Send on connect, each time the link opens (optional)"</label>
                <input id="drive-on-connect" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
                    placeholder="getReadings"
                    prop:value=move || on_connect.get() on:input=move |ev| on_connect.set(event_target_value(&ev))/>
                <p class="error" role="status" data-testid="drive-settings-message">{move || message.get()}</p>
                <div class="buttons"><button type="submit">"Save"</button></div>
            </form>
        </section>
    }
}

#[cfg(feature = "fleet")]
fn broker_card() -> impl IntoView {
    view! { <crate::fleet::page::BrokerCard/> }
}

/// Built without fleet mode: no broker to set.
#[cfg(not(feature = "fleet"))]
fn broker_card() -> impl IntoView {}
