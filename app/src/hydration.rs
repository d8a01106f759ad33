//! How a page becomes interactive: islands.
//!
//! Kauko's pages are rendered on the server, and their links and forms
//! work as plain HTML. Only the parts of a page that need the browser are
//! islands (Leptos's `#[island]`): the request form with its lookup, My
//! requests with its cancel and renew buttons, the lending form, and each
//! staff page. The browser downloads and runs the code of those islands
//! only; the header, the footer, the home page and the other static pages
//! never reach it, and neither does the router (every page is a full page
//! load). A patron's phone thus gets a small WebAssembly module.
//!
//! The islands patrons never use (the lending form for other libraries and
//! the staff pages) are lazy (`#[island(lazy)]`): in a release build made
//! with cargo-leptos's split mode (`--split`, see `scripts/toolchain.sh`)
//! their code goes into chunks that the browser fetches only when such a
//! page is shown. The patron pages' islands stay in the main module: split
//! off, My requests came in some sixty chunks, 89 KB more than the request
//! form's page (measured 2026-12-05). Builds without split mode (`cargo
//! leptos build` without `--split`) cannot load lazy islands, so every
//! script builds with it.
//!
//! [`IslandScripts`] loads the module (not at all on a page without
//! islands, such as the home page), lets it fetch the page's strings
//! (`frontend/src/lib.rs`), hydrates each island in the page, and then
//! marks `<html data-hydrated="true">` (tests and styles rely on it).

use leptos::prelude::*;

/// The page's script: loads the WebAssembly module and hydrates the islands.
/// Goes in `<head>`, in place of Leptos's `HydrationScripts`, whose islands
/// script neither waits for the strings nor says when it is done.
#[component]
pub fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    // Unlike Leptos's islands script, the page is rendered as for full
    // hydration: an island's parts that are rendered late (a view inside a
    // closure, such as a tab's content with its Suspense) then carry the
    // markers its hydration looks for. Without them such an island failed
    // to hydrate. Outside the islands this costs a few `<!>` in the HTML.
    let (js, wasm) = module_names(&options);
    let pkg = options.site_pkg_dir.to_string();
    let js = format!("/{pkg}/{js}.js");
    let wasm = format!("/{pkg}/{wasm}.wasm");
    // Rust's quoting of these plain paths is a valid JavaScript string.
    let script = format!(
        "{}\n({:?}, {:?});",
        include_str!("hydration/islands.js")
            .trim_end()
            .trim_end_matches(';'),
        js,
        wasm
    );
    let nonce = leptos::nonce::use_nonce();
    // The module is fetched beside the page, except on the pages that
    // have no island (the script then does not load it at all).
    let has_islands = !STATIC_PAGES.contains(&crate::page_url::page_path().as_str());
    let preload = has_islands.then(|| {
        view! {
            <link rel="modulepreload" href=js.clone() crossorigin="anonymous"/>
            <link rel="preload" href=wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        }
    });
    view! {
        {preload}
        <script type="module" nonce=nonce>{script}</script>
    }
}

/// Pages with no island. Only the preloads depend on this list: the
/// script itself looks for islands in the page.
const STATIC_PAGES: [&str; 3] = ["/", "/accessibility", "/staff"];

/// The js and wasm files' names without extension: `kauko.<hash>` when the
/// build hashed them (cargo-leptos's `hash.txt` beside the server binary).
fn module_names(options: &LeptosOptions) -> (String, String) {
    #[cfg(feature = "ssr")]
    {
        use std::sync::OnceLock;
        static NAMES: OnceLock<(String, String)> = OnceLock::new();
        NAMES
            .get_or_init(|| {
                let name = options.output_name.to_string();
                if !options.hash_files {
                    let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_none() {
                        format!("{name}_bg")
                    } else {
                        name.clone()
                    };
                    return (name, wasm);
                }
                let hashes = std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(|p| p.join(options.hash_file.as_ref())))
                    .and_then(|path| std::fs::read_to_string(path).ok())
                    .unwrap_or_default();
                let hash = |kind: &str| {
                    hashes.lines().find_map(|line| {
                        let (file, hash) = line.trim().split_once(':')?;
                        (file.trim() == kind).then(|| format!("{name}.{}", hash.trim()))
                    })
                };
                (
                    hash("js").unwrap_or_else(|| name.clone()),
                    hash("wasm").unwrap_or_else(|| name.clone()),
                )
            })
            .clone()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let name = options.output_name.to_string();
        (name.clone(), name)
    }
}
