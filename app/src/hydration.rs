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
//! Split mode moves the lazy islands' code into chunks, but not their
//! data: their strings, the tables and imports that reach their chunks
//! stayed in the main module. So a release build makes a second module
//! for patrons' pages ([`Module::Patron`]): the same `frontend` crate
//! compiled without the `lazy-islands` feature, which leaves the lazy
//! islands out entirely (`kauko_release_build` in scripts/toolchain.sh).
//! A page with a lazy island loads the full module; a patron's page the
//! patron's module. Each page loads one of the two, never both.
//!
//! [`IslandScripts`] loads the module (not at all on a page without
//! islands, such as the home page), lets it fetch the page's strings
//! (`frontend/src/lib.rs`), hydrates each island in the page, and then
//! marks `<html data-hydrated="true">` (tests and styles rely on it).

#[cfg(feature = "ssr")]
use leptos::prelude::*;

/// The page's script: loads the WebAssembly module and hydrates the islands.
/// Goes in `<head>`, in place of Leptos's `HydrationScripts`, whose islands
/// script neither waits for the strings nor says when it is done. Rendered
/// by the server only (`crate::shell`).
#[cfg(feature = "ssr")]
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
    let kind = crate::PageKind::of(&crate::page_url::page_path());
    let has_islands = kind.has_islands();
    let lazy = kind.has_lazy_islands();
    // A patron's page loads the patron's module when the build made one;
    // a page with lazy islands the full module.
    let (js, wasm) = module_names(&options, if lazy { Module::Full } else { Module::Patron });
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
    // the pages that have no island (the script then loads neither). A
    // page with lazy islands fetches the chunk loader too, which the full
    // module only imports when a lazy island first loads
    // (scripts/split-loader.mjs).
    let loader = lazy.then(|| full_chunk_loader(&options)).flatten();
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

/// The browser's two WebAssembly modules (both from `frontend`).
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Module {
    /// Every island, the lazy ones split off into chunks: the lending
    /// forms' and the staff pages' module.
    Full,
    /// Only the patron's islands (the request form), built without the
    /// `lazy-islands` feature by `kauko_release_build`
    /// (scripts/toolchain.sh), which lists its hashes in `hash.txt` as
    /// `patron-js` and `patron-wasm`. Without it (a debug build), patrons'
    /// pages load the full module.
    Patron,
}

/// The js and wasm files' names without extension: `kauko.<hash>` when the
/// build hashed them ([`built_hash`]).
#[cfg(feature = "ssr")]
fn module_names(options: &LeptosOptions, module: Module) -> (String, String) {
    let name = options.output_name.to_string();
    if options.hash_files {
        let (js, wasm) = built_hashes().map_or((None, None), |text| module_hashes(text, module));
        let named =
            |hash: Option<&str>| hash.map_or_else(|| name.clone(), |h| format!("{name}.{h}"));
        return (named(js), named(wasm));
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
/// `wasm`, `css`, `split` (the chunk loader), or `patron-js` and
/// `patron-wasm` (the patron's module, [`Module::Patron`])), from the
/// `hash.txt` cargo-leptos writes beside the server's executable when it
/// hashes names (`hash-files` in Cargo.toml).
/// Read once. `None` when the build wrote no hashes. The server's asset
/// service reads the same (server/src/web/assets.rs).
#[cfg(feature = "ssr")]
pub fn built_hash(kind: &str) -> Option<&'static str> {
    hash_of(built_hashes()?, kind)
}

/// `hash.txt`'s text, read once.
#[cfg(feature = "ssr")]
fn built_hashes() -> Option<&'static str> {
    use std::sync::OnceLock;
    static HASHES: OnceLock<Option<String>> = OnceLock::new();
    HASHES
        .get_or_init(|| {
            let path = std::env::current_exe().ok()?.parent()?.join("hash.txt");
            std::fs::read_to_string(path).ok()
        })
        .as_deref()
}

/// The hashes of a module's js and wasm in `hash.txt`'s text: the
/// patron's module's when it is asked for and the build made it, else the
/// full module's.
#[cfg(feature = "ssr")]
fn module_hashes(text: &str, module: Module) -> (Option<&str>, Option<&str>) {
    if module == Module::Patron {
        if let (Some(js), Some(wasm)) = (hash_of(text, "patron-js"), hash_of(text, "patron-wasm")) {
            return (Some(js), Some(wasm));
        }
    }
    (hash_of(text, "js"), hash_of(text, "wasm"))
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

    #[test]
    fn a_patrons_page_loads_the_patrons_module_when_built() {
        use super::{module_hashes, Module};
        let full = "js: J\nwasm: W\ncss: C\nsplit: S\n";
        let both = format!("{full}patron-js: PJ\npatron-wasm: PW\n");
        assert_eq!(
            module_hashes(&both, Module::Patron),
            (Some("PJ"), Some("PW"))
        );
        assert_eq!(module_hashes(&both, Module::Full), (Some("J"), Some("W")));
        // A build without it (debug): every page the full module.
        assert_eq!(module_hashes(full, Module::Patron), (Some("J"), Some("W")));
        // Half of it (a broken build) is not used.
        let half = format!("{full}patron-wasm: PW\n");
        assert_eq!(module_hashes(&half, Module::Patron), (Some("J"), Some("W")));
    }
}
