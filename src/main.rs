//! The app's entry point: removes index.html's loading screen and mounts [`wsdeck::App`].

fn main() {
    // index.html shows a loading screen while the wasm arrives (a device serves it at WiFi speed).
    if let Some(boot) =
        wsdeck::dom::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
    leptos::mount::mount_to_body(wsdeck::App);
}
