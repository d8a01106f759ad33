// Loads Kauko's WebAssembly module and hydrates the page's islands
// (app/src/hydration.rs). Called with the module's js and wasm URLs.
(async (js, wasm) => {
  // A page without islands (the home page, say) needs no WebAssembly.
  if (!document.querySelector("leptos-island")) {
    document.documentElement.setAttribute("data-hydrated", "true");
    return;
  }
  const mod = await import(js);
  await mod.default({ module_or_path: wasm });
  // Fetches the page's strings first; false if they could not be had,
  // and the page then stays as the server rendered it.
  if (!(await mod.hydrate())) return;
  const walk = async (node) => {
    for (const el of Array.from(node.children)) {
      if (el.localName === "leptos-island") {
        const hydrate = mod[el.dataset.component];
        if (hydrate) await hydrate(el);
        // An error, not a warning: end2end tests fail on it (a page with
        // a lazy island given the patron's module, app/src/lib.rs PageKind).
        else console.error(`Kauko: no code for the island ${el.dataset.component}`);
      } else {
        await walk(el);
      }
    }
  };
  await walk(document.body);
  document.documentElement.setAttribute("data-hydrated", "true");
})
