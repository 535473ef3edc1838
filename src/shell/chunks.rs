//! Pages that load on demand. With the `split` feature (the release build of `cargo xtask`,
//! docs/ARCHITECTURE.md) each page below is its own wasm chunk, fetched the first time it is
//! opened, or in the background once the first telemetry value is on screen; the first screen
//! (status bar, pairing card, update prompt, tiles) is in the main wasm and needs none. Without
//! the feature (`trunk build`, `trunk serve`, native tests) the same functions build the page at
//! once, from the one wasm.
//!
//! While a chunk loads the page says so; when it cannot be fetched (offline without the service
//! worker, the device gone) the page says that with a Retry button: a failed load is an `Err`,
//! never a panic, and the loader keeps no failure, so a retry fetches again.

use crate::connection::Connection;
use leptos::prelude::*;
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A part of the app in a wasm chunk of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    Drive,
    Controls,
    Charts,
    Device,
    Settings,
    /// The Fleet page, opened from Settings.
    #[cfg(feature = "fleet")]
    Fleet,
    /// A device's link over a broker (the MQTT client, in the Fleet page's wasm chunk), loaded
    /// before such a link opens ([`carry`]).
    #[cfg(feature = "fleet")]
    Carrier,
}

impl Chunk {
    /// Every chunk, in the order the background preload fetches them. The Fleet page's comes
    /// last: a phone on one device rarely opens it, but every chunk is fetched after the first
    /// value so that any page then opens at once (e2e/tests/chunks.test.mjs).
    pub const ALL: &[Chunk] = &[
        Chunk::Charts,
        Chunk::Drive,
        Chunk::Controls,
        Chunk::Device,
        Chunk::Settings,
        #[cfg(feature = "fleet")]
        Chunk::Fleet,
        #[cfg(feature = "fleet")]
        Chunk::Carrier,
    ];

    /// Whether its part of the first screen waits for the first value (see [`lazy`]).
    fn deferred(self) -> bool {
        self == Chunk::Charts
    }

    /// Its place in [`LOADED`].
    fn index(self) -> usize {
        self as usize
    }
}

/// A chunk that could not be fetched or instantiated (the browser's console says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError;

#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for ChunkError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> ChunkError {
        ChunkError
    }
}

/// One entry point into a chunk: a page's view, or (with arguments) a function. With `split` on
/// wasm, `#[wasm_split]` moves its body (and what only it reaches) into the chunk named by
/// `$split`, and `$preload` fetches that chunk without running anything.
macro_rules! chunk {
    ($split:ident, $build:ident, $preload:ident, ($($arg:ident: $ty:ty),*) -> $out:ty, $body:expr) => {
        #[cfg(feature = "split")]
        #[leptos::wasm_split::wasm_split($split, wasm_split_path = ::leptos::wasm_split, fallible, preload($preload))]
        fn $build($($arg: $ty),*) -> Result<$out, ChunkError> {
            Ok($body)
        }

        #[cfg(not(feature = "split"))]
        async fn $build($($arg: $ty),*) -> Result<$out, ChunkError> {
            Ok($body)
        }

        #[cfg(not(feature = "split"))]
        async fn $preload() -> Result<(), ChunkError> {
            Ok(())
        }
    };
    // A page: its view.
    ($split:ident, $build:ident, $preload:ident, $page:expr) => {
        chunk!($split, $build, $preload, () -> AnyView, $page);
    };
}

// Two chunks, measured against one per page (docs/SIZE.md): the charts of the home page, fetched
// right after the first value, and the other pages together. One per page made 5 chunks plus 17
// shared pieces (opening Drive took 14 requests, many under 1 KB), which a device serving a few
// connections at a time sends slower than the 2 requests of the grouped pages.
chunk!(pages, build_drive, preload_drive, view! { <crate::drive::DrivePage/> }.into_any());
chunk!(pages, build_controls, preload_controls, view! { <crate::controls::ControlsPage/> }.into_any());
chunk!(charts, build_charts, preload_charts, super::charts_card().into_any());
chunk!(pages, build_device, preload_device, view! { <crate::device::DevicePage/> }.into_any());
chunk!(pages, build_settings, preload_settings, view! { <super::settings::SettingsPage/> }.into_any());
#[cfg(feature = "fleet")]
chunk!(fleet, build_fleet, preload_fleet, view! { <crate::fleet::page::FleetPage/> }.into_any());

#[cfg(feature = "fleet")]
use crate::fleet::carrier::{self, Carrier, Event as CarrierEvent, Input as CarrierInput};

// The carrier's code is in the Fleet page's chunk: it shares the MQTT client with the page, and
// one chunk is one request for a phone that opens a broker link.
#[cfg(feature = "fleet")]
chunk!(
    fleet,
    carry_in_chunk,
    preload_carrier,
    (slot: &mut Option<Carrier>, now_ms: f64, input: CarrierInput<'_>) -> (bool, Vec<CarrierEvent>),
    carrier::carry(slot, now_ms, input)
);

/// [`carrier::carry`], once [`Chunk::Carrier`] is loaded ([`load`]); `None` before.
#[cfg(feature = "fleet")]
pub fn carry(
    slot: &mut Option<Carrier>,
    now_ms: f64,
    input: CarrierInput<'_>,
) -> Option<(bool, Vec<CarrierEvent>)> {
    if !is_loaded(Chunk::Carrier) {
        return None;
    }
    poll_once(carry_in_chunk(slot, now_ms, input)).and_then(Result::ok)
}

async fn preload(chunk: Chunk) -> Result<(), ChunkError> {
    let loaded = match chunk {
        Chunk::Drive => preload_drive().await,
        Chunk::Controls => preload_controls().await,
        Chunk::Charts => preload_charts().await,
        Chunk::Device => preload_device().await,
        Chunk::Settings => preload_settings().await,
        #[cfg(feature = "fleet")]
        Chunk::Fleet => preload_fleet().await,
        #[cfg(feature = "fleet")]
        Chunk::Carrier => preload_carrier().await,
    };
    #[allow(clippy::useless_conversion)] // a SplitLoaderError with `split`, already ours without
    loaded.map_err(ChunkError::from)
}

/// The chunk's view, built in the caller's reactive owner (so the page's `on_cleanup`s run when
/// it is left, as for a page in the main wasm). Once the chunk is loaded the call completes at
/// its first poll; `None` if it did not (it cannot, but nothing here may panic).
fn build(chunk: Chunk) -> Option<AnyView> {
    let result = match chunk {
        Chunk::Drive => poll_once(build_drive()),
        Chunk::Controls => poll_once(build_controls()),
        Chunk::Charts => poll_once(build_charts()),
        Chunk::Device => poll_once(build_device()),
        Chunk::Settings => poll_once(build_settings()),
        #[cfg(feature = "fleet")]
        Chunk::Fleet => poll_once(build_fleet()),
        // Not a view: never asked for by [`lazy`].
        #[cfg(feature = "fleet")]
        Chunk::Carrier => None,
    };
    result.and_then(Result::ok)
}

/// Polls `future` once, without a task to wake: for a future that is already able to finish.
fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

thread_local! {
    /// Which parts have loaded: a page whose part is loaded is built at once, with no loading
    /// state. Per part, not per wasm chunk: each part's `#[wasm_split]` function has a loader of
    /// its own, which has to have finished before the function can be called at once, even when
    /// another part already fetched the same chunk (the second fetch is then only the loader's
    /// memo, in JS).
    static LOADED: [Cell<bool>; 7] = const { [const { Cell::new(false) }; 7] };
    /// The background preload is started once per app.
    static PRELOADING: Cell<bool> = const { Cell::new(false) };
}

pub fn is_loaded(chunk: Chunk) -> bool {
    !cfg!(feature = "split") || LOADED.with(|l| l[chunk.index()].get())
}

/// Fetches `chunk`, remembering success.
pub async fn load(chunk: Chunk) -> Result<(), ChunkError> {
    preload(chunk).await?;
    LOADED.with(|l| l[chunk.index()].set(true));
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Loading,
    Failed,
    Ready,
}

/// `chunk`'s part of a page: at once when its chunk is loaded, else "Loading…" until it is, or
/// what went wrong with a Retry button when it cannot be. A page that was opened is fetched at
/// once; the charts under the home page's tiles wait until the first value is on screen, so that
/// the first screen shares the link with nothing.
pub fn lazy(chunk: Chunk) -> impl IntoView {
    let state = RwSignal::new(if is_loaded(chunk) { State::Ready } else { State::Loading });
    let fetch = move || {
        // A timer may fire after the page was left: its signal is gone, and nothing is fetched.
        if state.try_set(State::Loading).is_some() {
            return;
        }
        leptos::task::spawn_local(async move {
            let next = if load(chunk).await.is_ok() { State::Ready } else { State::Failed };
            // The page may have been left meanwhile: its signal is gone, and nothing is shown.
            state.try_set(next);
        });
    };
    if state.get_untracked() == State::Loading {
        if chunk.deferred() {
            after_first_value(AFTER_FIRST_VALUE, Some(NO_VALUE), fetch);
        } else {
            fetch();
        }
    }
    move || match state.get() {
        State::Loading => view! {
            <p class="card chunk-loading" role="status" data-testid="chunk-loading">"Loading…"</p>
        }
        .into_any(),
        State::Ready => build(chunk).unwrap_or_else(|| failed(fetch)),
        State::Failed => failed(fetch),
    }
}

fn failed(retry: impl Fn() + Send + Sync + 'static) -> AnyView {
    view! {
        <section class="card" role="alert" data-testid="chunk-failed">
            <p>"This page could not be loaded: the device may be out of reach."</p>
            <button on:click=move |_| retry()>"Retry"</button>
        </section>
    }
    .into_any()
}

/// How long after the first value arrives a deferred chunk is fetched: the tiles are painted
/// by then (they render as the frame arrives).
const AFTER_FIRST_VALUE: Duration = Duration::from_millis(100);
/// A deferred chunk is fetched this long after the first screen even when no value comes.
const NO_VALUE: Duration = Duration::from_secs(3);
/// How long after the first value the background preload starts.
const PRELOAD_AFTER: Duration = Duration::from_secs(1);

/// Calls `f` once, `delay` after the first telemetry value arrives, or `fallback` after now if
/// that comes first; neither once the caller's owner is gone.
fn after_first_value(delay: Duration, fallback: Option<Duration>, f: impl Fn() + Clone + 'static) {
    let Some(conn) = use_context::<Connection>() else { return };
    let fired = Rc::new(Cell::new(false));
    let f = move || {
        if !fired.replace(true) {
            f();
        }
    };
    let scheduled = Rc::new(Cell::new(false));
    let handles = StoredValue::new_local(Vec::new());
    let schedule = {
        let scheduled = scheduled.clone();
        move |after: Duration| {
            let f = f.clone();
            if let Ok(handle) = set_timeout_with_handle(f, after) {
                handles.update_value(|h| h.push(handle));
            }
            scheduled.set(true);
        }
    };
    if let Some(fallback) = fallback {
        schedule.clone()(fallback);
        scheduled.set(false);
    }
    Effect::new(move |_| {
        // Once scheduled this reads no signal, so the effect does not run again.
        if scheduled.get() {
            return;
        }
        if conn.telemetry_frame.get() > 0 {
            schedule(delay);
        }
    });
    on_cleanup(move || {
        for handle in handles.try_get_value().unwrap_or_default() {
            handle.clear();
        }
    });
}

/// Starts the background preload ([`preload_all`]) a second after the first value.
pub fn preload_after_first_value() {
    if !preloading() {
        after_first_value(PRELOAD_AFTER, None, preload_all);
    }
}

/// Whether [`preload_all`] has nothing (more) to do: it started, or the app has no chunks.
pub fn preloading() -> bool {
    !cfg!(feature = "split") || PRELOADING.with(Cell::get)
}

/// Fetches every chunk not yet loaded, one after the other, so that opening a page later is
/// instant. Called after the first telemetry value is on screen, so that none of it competes
/// with the first screen; a failure here is only retried when the page is opened.
fn preload_all() {
    if !cfg!(feature = "split") || PRELOADING.with(|p| p.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async {
        for &chunk in Chunk::ALL {
            if !is_loaded(chunk) && load(chunk).await.is_err() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_once_finishes_a_ready_future_and_leaves_a_pending_one() {
        assert_eq!(poll_once(async { 3 }), Some(3));
        assert_eq!(poll_once(std::future::pending::<u8>()), None);
    }

    #[test]
    fn without_split_every_chunk_is_loaded_and_preloads_at_once() {
        for &chunk in Chunk::ALL {
            assert!(is_loaded(chunk));
            assert_eq!(poll_once(preload(chunk)), Some(Ok(())));
        }
    }
}
