//! The app shell: status bar on top, the current page, and the tab bar (bottom in portrait, side
//! in landscape). Pages are addressed by the URL hash so that Back works and a page can be linked.

pub mod chunks;
mod settings;

use crate::connection::{PairingCard, StatusBar};
use crate::dom::{self, Listener};
use crate::pwa::UpdatePrompt;
use crate::telemetry::Tiles;
use chunks::{lazy, Chunk};
use leptos::prelude::*;
use send_wrapper::SendWrapper;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Drive,
    Controls,
    Charts,
    Device,
    Settings,
    /// Not a tab: opened from Settings (or `#/fleet`).
    #[cfg(feature = "fleet")]
    Fleet,
}

impl Page {
    pub const ALL: [Page; 5] = [Page::Drive, Page::Controls, Page::Charts, Page::Device, Page::Settings];
    /// Where the app opens.
    pub const HOME: Page = Page::Charts;

    /// `#/device` -> Device; anything unknown -> the home page.
    pub fn from_hash(hash: &str) -> Page {
        let name = hash.trim_start_matches('#').trim_start_matches('/');
        #[cfg(feature = "fleet")]
        if name == Page::Fleet.slug() {
            return Page::Fleet;
        }
        Page::ALL.into_iter().find(|p| p.slug() == name).unwrap_or(Page::HOME)
    }

    pub fn slug(self) -> &'static str {
        match self {
            Page::Drive => "drive",
            Page::Controls => "controls",
            Page::Charts => "charts",
            Page::Device => "device",
            Page::Settings => "settings",
            #[cfg(feature = "fleet")]
            Page::Fleet => "fleet",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Drive => "Drive",
            Page::Controls => "Controls",
            Page::Charts => "Charts",
            Page::Device => "Device",
            Page::Settings => "Settings",
            #[cfg(feature = "fleet")]
            Page::Fleet => "Fleet",
        }
    }

    /// A 24×24 outline icon.
    fn icon(self) -> &'static str {
        match self {
            Page::Drive => "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 5v8m-4-4h8",
            Page::Controls => "M6 4v16M12 4v16M18 4v16M4 8h4M10 15h4M16 10h4",
            Page::Charts => "M3 20h18M5 16l4-6 4 3 6-8",
            Page::Device => "M7 3h10v18H7zM11 18h2",
            Page::Settings => "M4 7h10m4 0h2M4 17h4m4 0h8M16 5v4M10 15v4",
            #[cfg(feature = "fleet")]
            Page::Fleet => "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h6v6h-6z",
        }
    }
}

fn current_page() -> Page {
    let hash = dom::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    Page::from_hash(&hash)
}

/// Follows the URL hash; the listener goes away with the component.
fn use_page() -> ReadSignal<Page> {
    let page = RwSignal::new(current_page());
    if let Some(w) = dom::window() {
        let listener = Listener::new(&w, "hashchange", move |_| page.set(current_page()));
        let listener = SendWrapper::new(listener);
        on_cleanup(move || drop(listener.take()));
    }
    page.read_only()
}

#[cfg(feature = "charts")]
fn charts_card() -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Charts"</h2>
            <crate::chart::Charts/>
        </section>
    }
}

/// Built without charts (only to weigh what they add to the bundle): the tiles alone.
#[cfg(not(feature = "charts"))]
fn charts_card() -> impl IntoView {}

#[component]
pub fn Shell() -> impl IntoView {
    let page = use_page();
    // Every page but the tiles is a chunk (shell/chunks.rs): fetched in the background once the
    // first value is on screen, so the first screen's bytes are the main wasm's alone.
    chunks::preload_after_first_value();
    let body = move || match page.get() {
        Page::Drive => lazy(Chunk::Drive).into_any(),
        Page::Controls => lazy(Chunk::Controls).into_any(),
        Page::Charts => view! {
            <section class="card">
                <h2>"Live values"</h2>
                <Tiles/>
            </section>
            {lazy(Chunk::Charts)}
        }
        .into_any(),
        Page::Device => lazy(Chunk::Device).into_any(),
        Page::Settings => lazy(Chunk::Settings).into_any(),
        #[cfg(feature = "fleet")]
        Page::Fleet => lazy(Chunk::Fleet).into_any(),
    };
    // The page's name, its tab marked, by plain DOM calls in one effect (docs/SIZE.md: the first
    // screen in plain DOM): a reactive attribute per tab costs the main wasm more.
    let main = NodeRef::<leptos::html::Main>::new();
    let nav = NodeRef::<leptos::html::Nav>::new();
    let tabs = StoredValue::new_local(Vec::<web_sys::Element>::new());
    Effect::new(move |_| {
        let page = page.get();
        let (Some(main), Some(nav), Some(doc)) =
            (main.get(), nav.get(), dom::window().and_then(|w| w.document()))
        else {
            return;
        };
        let _ = main.set_attribute("data-page", page.slug());
        if let Some(h1) = main.first_element_child() {
            h1.set_text_content(Some(page.title()));
        }
        tabs.update_value(|tabs| {
            if tabs.is_empty() {
                *tabs = Page::ALL.into_iter().map(|p| tab(&doc, &nav, p)).collect();
            }
            for (a, p) in tabs.iter().zip(Page::ALL) {
                let _ = a.set_attribute("class", if p == page { "active" } else { "" });
                let _ = if p == page {
                    a.set_attribute("aria-current", "page")
                } else {
                    a.remove_attribute("aria-current")
                };
            }
        });
    });
    view! {
        <div class="app">
            <StatusBar/>
            <main class="page" node_ref=main>
                // The page's one top-level heading, for screen readers: the tab bar shows its name.
                <h1 class="visually-hidden"></h1>
                <PairingCard/>
                {body}
            </main>
            <nav class="tabs" node_ref=nav></nav>
            <UpdatePrompt/>
        </div>
    }
}

/// A page's link in the tab bar: its icon and name.
fn tab(doc: &web_sys::Document, nav: &web_sys::Element, p: Page) -> web_sys::Element {
    let a = dom::el(doc, nav, "a", &[("href", &format!("#/{}", p.slug()))], "");
    // The icon is SVG: made in its namespace, or it would not draw.
    const SVG: Option<&str> = Some("http://www.w3.org/2000/svg");
    if let (Ok(svg), Ok(path)) = (doc.create_element_ns(SVG, "svg"), doc.create_element_ns(SVG, "path")) {
        let _ = svg.set_attribute("viewBox", "0 0 24 24");
        let _ = svg.set_attribute("aria-hidden", "true");
        let _ = path.set_attribute("d", p.icon());
        let _ = svg.append_child(&path);
        let _ = a.append_child(&svg);
    }
    dom::el(doc, &a, "span", &[], p.title());
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_selects_the_page() {
        assert_eq!(Page::from_hash("#/device"), Page::Device);
        assert_eq!(Page::from_hash("#settings"), Page::Settings);
        assert_eq!(Page::from_hash(""), Page::HOME);
        assert_eq!(Page::from_hash("#/nope"), Page::HOME);
        #[cfg(feature = "fleet")]
        assert_eq!(Page::from_hash("#/fleet"), Page::Fleet);
        for p in Page::ALL {
            assert_eq!(Page::from_hash(&format!("#/{}", p.slug())), p);
        }
    }
}
