//! Settings: which address to connect to.

use crate::connection::url::{self, Source};
use crate::connection::Connection;
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
        <section class="card">
            <h2>"About"</h2>
            <p class="hint">"wsdeck " {env!("CARGO_PKG_VERSION")} ", protocol v" {wsdeck_protocol::VERSION} "."</p>
        </section>
    }
}
