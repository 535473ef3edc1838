//! A build without the `controls` feature: the protocol leaves the declarations unread, so there
//! is never a control to show, and this stand-in for [`super::model::Panel`] says so to the
//! session and the pages. `cargo xtask bench --only controls` builds it to weigh the feature.

use super::model::{Out, Shown};
use crate::series::SeriesSet;
use leptos::prelude::*;
use wsdeck_protocol::{Control, Controls, CtlValue};

/// No controls, ever.
#[derive(Debug, Default)]
pub struct Panel {
    _none: (),
}

impl Panel {
    pub fn declare(&mut self, _: Controls) -> Vec<Out> {
        Vec::new()
    }

    pub fn clear(&mut self) {}

    pub fn controls(&self) -> impl Iterator<Item = &Control> {
        std::iter::empty()
    }

    pub fn is_empty(&self) -> bool {
        true
    }

    pub fn shown(&self, _: usize) -> Option<Shown> {
        None
    }

    pub fn set_version(&self) -> u64 {
        0
    }

    pub fn version(&self) -> u64 {
        0
    }

    pub fn on_device(&mut self, _: Vec<(String, CtlValue)>) {}

    pub fn follow(&mut self, _: &SeriesSet) {}

    pub fn release_all(&mut self, _: f64) -> Vec<Out> {
        Vec::new()
    }

    pub fn link_lost(&mut self) {}

    pub fn tick(&mut self, _: f64, _: u32) -> Vec<Out> {
        Vec::new()
    }
}

/// The Controls page of a build without controls.
#[component]
pub fn ControlsPage() -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Controls"</h2>
            <p class="hint">"This build of wsdeck has no controls (it was built without the controls feature)."</p>
        </section>
    }
}

/// Nothing beside the pad.
#[component]
pub fn DriveControls() -> impl IntoView {}
