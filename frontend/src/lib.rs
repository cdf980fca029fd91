//! The browser entry point: hydrate the islands of the server-rendered page.

// Links the app so that its islands' exported hydration functions are in the bundle.
extern crate app;

/// Called by the generated JS once the wasm module is loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
