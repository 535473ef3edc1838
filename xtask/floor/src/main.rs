//! The smallest app on wsdeck's stack (see Cargo.toml): what any wsdeck-like app pays before
//! its first feature.
use leptos::prelude::*;

fn main() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let (count, set_count) = signal(0i32);
    if let Ok(ws) = web_sys::WebSocket::new("ws://127.0.0.1:9/ws") {
        ws.set_onopen(None);
        let _ = ws.close();
    }
    view! {
        <button on:click=move |_| set_count.update(|n| *n += 1)>"+"</button>
        <p>{move || count.get()}</p>
        <canvas id="axes" width="300" height="150"></canvas>
        <Axes count/>
    }
}

/// One chart's axes and grid, as the app's charts draw them.
#[cfg(feature = "charts")]
#[component]
fn Axes(count: ReadSignal<i32>) -> impl IntoView {
    use plotters::prelude::*;
    Effect::new(move |_| {
        let top = f64::from(count.get()) + 1.0;
        let Some(backend) = plotters_canvas::CanvasBackend::new("axes") else { return };
        let root = backend.into_drawing_area();
        let font = FontDesc::new(FontFamily::Name("system-ui, sans-serif"), 11.0, FontStyle::Normal);
        let built = ChartBuilder::on(&root)
            .y_label_area_size(40)
            .x_label_area_size(20)
            .build_cartesian_2d(0f64..10f64, -top..top);
        if let Ok(mut chart) = built {
            let _ = chart
                .configure_mesh()
                .label_style(font)
                .x_label_formatter(&|v| format!("{v:.0}s"))
                .y_label_formatter(&|v| format!("{v:.1}"))
                .draw();
        }
    });
}

#[cfg(not(feature = "charts"))]
#[component]
fn Axes(count: ReadSignal<i32>) -> impl IntoView {
    let _ = count;
}
