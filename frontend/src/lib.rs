//! The browser half of Kauko: the page's islands (app/src/hydration.rs).
//! The page's script (`app::hydration::IslandScripts`) loads this module,
//! calls [`hydrate`], then hydrates each island the page holds.

/// Prepares the islands: fetches the page's strings (app/src/i18n.rs;
/// preloaded by the page) and gives every island the page's language,
/// site facts and viewer. `false` when the strings could not be had: the
/// islands would show keys, so the page stays as the server rendered it
/// (its links and forms still work).
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn hydrate() -> bool {
    // A panic's message in the browser's console. Not in the release
    // build made with `-Cpanic=immediate-abort` (scripts/toolchain.sh sets
    // `kauko_immediate_abort` with it): a panic there stops the wasm before
    // any hook runs, so the hook would only be weight.
    #[cfg(not(kauko_immediate_abort))]
    console_error_panic_hook::set_once();
    if !app::site::load_page_strings().await {
        leptos::logging::warn!("Kauko: the page's strings could not be loaded");
        return false;
    }
    leptos::mount::hydrate_islands();
    app::site::provide_site();
    true
}
