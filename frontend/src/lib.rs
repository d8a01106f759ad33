//! The browser half of Kauko: hydrates the page the server rendered.

// The app's view type, awaited whole by `hydrate_from_async`, is deep.
#![recursion_limit = "512"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Hydration runs as a task: it first fetches the page's strings
    // (app/src/i18n.rs; preloaded by the page), and the pages are lazy
    // routes (app/src/routes.rs) whose code may still be on its way.
    wasm_bindgen_futures::spawn_local(async {
        if !app::site::load_page_strings().await {
            // Without its strings the app would show keys: the page stays
            // as the server rendered it (links and forms still work).
            leptos::logging::warn!("Kauko: the page's strings could not be loaded");
            return;
        }
        let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        else {
            return;
        };
        let owner = leptos::mount::hydrate_from_async(body, app::App).await;
        owner.forget();
        // Marks the page as interactive (tests and styles can rely on it).
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
