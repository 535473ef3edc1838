//! Browser tests, run in headless Chromium by wasm-bindgen-test-runner (`cargo xtask test`):
//! the DOM wrappers release what they acquire, and the app mounts, connects and unmounts cleanly.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Event, EventTarget, HtmlElement};
use wsdeck::dom::{self, Interval, Listener};

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = dom::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn document() -> web_sys::Document {
    dom::window().unwrap().document().unwrap()
}

fn fresh_div() -> HtmlElement {
    let div = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn attr(root: &HtmlElement, selector: &str, name: &str) -> Option<String> {
    root.query_selector(selector).ok().flatten()?.get_attribute(name)
}

#[wasm_bindgen_test]
fn a_dropped_listener_hears_nothing() {
    let target = EventTarget::new().unwrap();
    let hits = Rc::new(Cell::new(0));
    let h = hits.clone();
    let listener = Listener::new(&target, "poke", move |_| h.set(h.get() + 1));
    target.dispatch_event(&Event::new("poke").unwrap()).unwrap();
    assert_eq!(hits.get(), 1);
    drop(listener);
    target.dispatch_event(&Event::new("poke").unwrap()).unwrap();
    assert_eq!(hits.get(), 1);
}

#[wasm_bindgen_test]
async fn a_dropped_interval_stops() {
    let hits = Rc::new(Cell::new(0));
    let h = hits.clone();
    let interval = Interval::new(5, move || h.set(h.get() + 1)).unwrap();
    sleep(80).await;
    drop(interval);
    let seen = hits.get();
    assert!(seen >= 2, "the interval ran {seen} times");
    sleep(80).await;
    assert_eq!(hits.get(), seen);
}

#[wasm_bindgen_test]
fn settings_survive_in_local_storage() {
    dom::storage_set("wsdeck.test", Some("ws://127.0.0.1:9/ws"));
    assert_eq!(dom::storage_get("wsdeck.test").as_deref(), Some("ws://127.0.0.1:9/ws"));
    dom::storage_set("wsdeck.test", None);
    assert_eq!(dom::storage_get("wsdeck.test"), None);
}

#[wasm_bindgen_test]
fn words_are_kept_per_device_and_the_old_global_words_move_to_the_first_one() {
    use wsdeck::device::prefs;
    let (car, other) = ("ws://127.0.0.1:9/ws", "ws://127.0.0.2:9/ws");
    dom::storage_set("wsdeck.drive.words", Some("F,B,L,R,S"));
    let moved = prefs::load(car);
    assert_eq!(moved.words, Some(["F", "B", "L", "R", "S"].map(String::from)));
    assert_eq!(dom::storage_get("wsdeck.drive.words"), None, "the old key is gone");
    assert_eq!(prefs::load(car), moved, "kept for that address");
    assert_eq!(prefs::load(other), prefs::DevicePrefs::default(), "another address has its own");
    let horn = prefs::ExtraWord { label: "Horn".into(), word: "horn".into() };
    let extra = prefs::DevicePrefs { extra: vec![horn.clone()], ..prefs::load(other) };
    prefs::save(other, &extra);
    assert_eq!(prefs::load(other).extra, [horn], "a named phone-side button, kept");
    assert_eq!(prefs::load(car), moved);
    prefs::save(car, &prefs::DevicePrefs::default());
    prefs::save(other, &prefs::DevicePrefs::default());
    assert_eq!(dom::storage_get(&format!("wsdeck.device.{car}")), None, "nothing left behind");
}

#[wasm_bindgen_test]
async fn the_app_mounts_tries_to_connect_and_unmounts_cleanly() {
    let before = dom::held();
    let root = fresh_div();
    let handle = leptos::mount::mount_to(root.clone(), wsdeck::App);
    leptos::task::tick().await;
    // A socket, the heartbeat timer, and listeners for online, offline, pageshow, visibility and
    // the page hash.
    assert!(dom::held() >= before + 6, "{} held after mounting", dom::held() - before);
    // The test runner's server has no /ws: the app keeps trying and says so.
    assert_eq!(attr(&root, "[data-testid=status]", "data-state").as_deref(), Some("connecting"));
    // Drive, Charts, Controls, Device, Settings.
    assert_eq!(root.query_selector_all("nav.tabs a").unwrap().length(), 5);
    sleep(300).await;
    drop(handle);
    assert_eq!(root.child_element_count(), 0);
    assert_eq!(dom::held(), before, "every listener, timer and socket is released on unmount");
}

#[wasm_bindgen_test]
async fn settings_explain_a_bad_address() {
    dom::window().unwrap().location().set_hash("/settings").unwrap();
    let root = fresh_div();
    let handle = leptos::mount::mount_to(root.clone(), wsdeck::App);
    leptos::task::tick().await;
    let input: web_sys::HtmlInputElement = root.query_selector("#ws-url").unwrap().unwrap().unchecked_into();
    input.set_value("ftp://device");
    input.dispatch_event(&Event::new("input").unwrap()).unwrap();
    let form: web_sys::HtmlFormElement = root.query_selector("form").unwrap().unwrap().unchecked_into();
    form.request_submit().unwrap();
    leptos::task::tick().await;
    let error = root.query_selector("[data-testid=url-error]").unwrap().unwrap().text_content().unwrap();
    assert!(error.contains("ws:// or wss://"), "{error}");
    drop(handle);
    dom::window().unwrap().location().set_hash("").unwrap();
}
