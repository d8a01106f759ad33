/* Kauko add-on for Primo NDE (New Discovery Experience).
 * Served by Kauko at /widgets/kauko-primo-nde.js. It is a remote container
 * in Module Federation's "var"/"script" shape: loading it defines
 * `window.kaukoPrimo` with `init(shareScope)` and `get("./KaukoAddon")`.
 * The exposed module has no Angular: `mount(slot, element, context)` puts
 * Kauko's custom element into an NDE slot's element, where
 *   slot     "nde-full-display-service-container-after" (the button),
 *            "nde-account-overview-after" or "nde-requests-page-before"
 *            (the status list);
 *   context  { hostComponent, moduleParameters } as NDE hands them to
 *            add-ons: the record is hostComponent.searchResult / .item /
 *            .record (with .pnx); moduleParameters is the add-on's JSON in
 *            Alma: {"kaukoUrl": "...", "showFor": ["book"], "show": "unavailable"}.
 * The README ("Kauko in Primo") shows both ways to install it.
 * If Kauko does not answer within 2 s, a plain "Open Kauko" link is shown.
 */
var kaukoPrimo = (function () {
  "use strict";
  var script = document.currentScript;
  var OWN = script && script.src ? script.src.replace(/\/widgets\/kauko-primo-nde\.js(\?.*)?$/, "") : "";
  var OPEN = { fi: "Avaa Kauko", sv: "Öppna Kauko", en: "Open Kauko" };
  var SLOTS = {
    "nde-full-display-service-container-after": "button",
    "nde-full-display-details-after": "button",
    "nde-record-availability-bottom": "button",
    "nde-account-overview-after": "status",
    "nde-account-section-results-bottom": "status",
    "nde-requests-page-before": "status"
  };
  var loading = null;

  function lang() {
    var m = /[?&]lang=([a-zA-Z]{2})/.exec(window.location.search);
    var tag = ((m && m[1]) || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
    return OPEN[tag] ? tag : "en";
  }
  function mark(name) {
    try { window.performance.mark(name); } catch (e) { /* old browsers */ }
  }
  function load(base) {
    if (window.KaukoPrimo) return Promise.resolve();
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      var timer = setTimeout(function () { reject(new Error("timeout")); }, 2000);
      s.src = base + "/widgets/kauko-primo.js";
      s.async = true;
      s.onload = function () { clearTimeout(timer); window.KaukoPrimo ? resolve() : reject(new Error("no bundle")); };
      s.onerror = function () { clearTimeout(timer); reject(new Error("unreachable")); };
      document.head.appendChild(s);
    });
    loading.catch(function () { loading = null; });
    return loading;
  }
  function recordOf(host) {
    if (!host) return null;
    var r = host.searchResult || host.item || host.record || null;
    return r && (r.pnx || r.addata || r.display) ? r : null;
  }
  function token() {
    try {
      var t = window.sessionStorage.getItem("primoExploreJwt");
      return t && t.charAt(0) === "\"" ? JSON.parse(t) : t;
    } catch (e) { return null; }
  }

  /** Puts Kauko's element for `slot` into `element`; resolves to it. */
  function mount(slot, element, context) {
    var kind = SLOTS[slot];
    if (!kind || !element) return Promise.resolve(null);
    context = context || {};
    var params = context.moduleParameters || {};
    var base = String(params.kaukoUrl || OWN).replace(/\/+$/, "");
    mark("kauko-hook-" + kind);
    return load(base).then(function () {
      var el = document.createElement(kind === "button" ? "kauko-ill-button" : "kauko-ill-status");
      el.setAttribute("kauko-url", base);
      el.setAttribute("lang", lang());
      if (kind === "button") {
        if (params.showFor && params.showFor.length) el.setAttribute("show-for", [].concat(params.showFor).join(","));
        el.setAttribute("show", params.show || "unavailable");
        el.record = recordOf(context.hostComponent);
      } else {
        el.token = context.getToken || token;
      }
      element.appendChild(el);
      return el;
    }, function () {
      var a = document.createElement("a");
      a.href = base + (kind === "button" ? "/request" : "/my");
      a.className = "kauko-fallback";
      a.textContent = OPEN[lang()];
      element.appendChild(a);
      return a;
    });
  }

  var addon = { slots: Object.keys(SLOTS), mount: mount };
  return {
    init: function () { return Promise.resolve(); },
    get: function (module) {
      return module === "./KaukoAddon"
        ? Promise.resolve(function () { return addon; })
        : Promise.reject(new Error("kaukoPrimo has no module " + module));
    }
  };
})();
