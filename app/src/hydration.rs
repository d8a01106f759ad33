//! How a page becomes interactive: islands.
//!
//! Kauko's pages are rendered on the server, and their links and forms
//! work as plain HTML. Only the parts of a page that need the browser are
//! islands (Leptos's `#[island]`): the request form with its lookup, the
//! lending form, and each staff page. The browser downloads and runs the
//! code of those islands only; the header, the footer, the home page, My
//! requests (whose cancel and renew are plain forms) and the other static
//! pages never reach it, and neither does the router (every page is a
//! full page load). A patron's phone thus gets a small WebAssembly module.
//!
//! The islands patrons never use (the lending form for other libraries and
//! the staff pages) are lazy (`#[island(lazy)]`): in a release build made
//! with cargo-leptos's split mode (`--split`, see `scripts/toolchain.sh`)
//! their code goes into chunks that the browser fetches only when such a
//! page is shown. The request form stays in the main module: it is the
//! one patron island, and split off it would come in many small chunks
//! (My requests, an island until 2026-12-06, came in some sixty chunks
//! when split off: 89 KB more than the request form's page, measured
//! 2026-12-05). Builds without split mode (`cargo leptos build` without
//! `--split`) cannot load lazy islands, so every script builds with it.
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
pub fn IslandScripts(
    options: LeptosOptions,
    /// The URL of the page's strings, which the browser reads before it
    /// hydrates: preloaded beside the wasm, not fetched after it.
    catalog: String,
) -> impl IntoView {
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
    // The module and the strings are fetched beside the page, except on
    // the pages that have no island (the script then loads neither).
    let path = crate::page_url::page_path();
    let has_islands = crate::page_has_islands(&path);
    // A page with lazy islands fetches the chunk loader too, which the
    // main module only imports when a lazy island first loads
    // (scripts/split-loader.mjs).
    #[cfg(feature = "ssr")]
    let loader = (has_islands && crate::page_has_lazy_islands(&path))
        .then(|| full_chunk_loader(&options))
        .flatten();
    #[cfg(not(feature = "ssr"))]
    let loader: Option<String> = None;
    let preload = has_islands.then(|| {
        view! {
            <link rel="modulepreload" href=js.clone() crossorigin="anonymous"/>
            <link rel="preload" href=wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
            <link rel="preload" href=catalog.clone() r#as="fetch" crossorigin="anonymous"/>
            {loader.map(|href| view! { <link rel="modulepreload" href=href crossorigin="anonymous"/> })}
        }
    });
    view! {
        {preload}
        <script type="module" nonce=nonce>{script}</script>
    }
}

/// The URL of the chunk loader's full module, when the build made the
/// loader lazy (`scripts/split-loader.mjs`, after a split release build):
/// `/pkg/__wasm_split.<hash>.full.js`. Looked up once.
#[cfg(feature = "ssr")]
fn full_chunk_loader(options: &LeptosOptions) -> Option<String> {
    use std::sync::OnceLock;
    static FOUND: OnceLock<Option<String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let name = format!("__wasm_split.{}.full.js", built_hash("split")?);
            let pkg = options.site_pkg_dir.to_string();
            let file = std::path::Path::new(options.site_root.as_ref())
                .join(&pkg)
                .join(&name);
            file.exists().then(|| format!("/{pkg}/{name}"))
        })
        .clone()
}

/// The js and wasm files' names without extension: `kauko.<hash>` when the
/// build hashed them ([`built_hash`]).
fn module_names(options: &LeptosOptions) -> (String, String) {
    let name = options.output_name.to_string();
    #[cfg(feature = "ssr")]
    if options.hash_files {
        let named = |kind| built_hash(kind).map_or_else(|| name.clone(), |h| format!("{name}.{h}"));
        return (named("js"), named("wasm"));
    }
    // Without hashes, cargo-leptos names the wasm `<name>_bg` unless the
    // output name was set at build time.
    let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_none() {
        format!("{name}_bg")
    } else {
        name.clone()
    };
    (name, wasm)
}

/// The content hash in the name of a built front-end file (`kind`: `js`,
/// `wasm` or `css`), from the `hash.txt` cargo-leptos writes beside the
/// server's executable when it hashes names (`hash-files` in Cargo.toml).
/// Read once. `None` when the build wrote no hashes. The server's asset
/// service reads the same (server/src/web/assets.rs).
#[cfg(feature = "ssr")]
pub fn built_hash(kind: &str) -> Option<&'static str> {
    use std::sync::OnceLock;
    static HASHES: OnceLock<Option<String>> = OnceLock::new();
    let text = HASHES
        .get_or_init(|| {
            let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
            std::fs::read_to_string(path).ok()
        })
        .as_deref()?;
    hash_of(text, kind)
}

/// Whether the build hashed the front end's file names (wrote `hash.txt`).
#[cfg(feature = "ssr")]
pub fn names_are_hashed() -> bool {
    built_hash("wasm").is_some()
}

/// One kind's hash in `hash.txt` (lines `kind: hash`).
#[cfg(feature = "ssr")]
fn hash_of<'a>(text: &'a str, kind: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (file, hash) = line.split_once(':')?;
        (file.trim() == kind).then(|| hash.trim())
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn hashes_by_kind() {
        let text = "js: AbC\nwasm:  Def_-1 \ncss: x\n";
        assert_eq!(super::hash_of(text, "wasm"), Some("Def_-1"));
        assert_eq!(super::hash_of(text, "css"), Some("x"));
        assert_eq!(super::hash_of(text, "png"), None);
    }
}
