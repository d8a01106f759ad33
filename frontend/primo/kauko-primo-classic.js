/* Kauko for the classic Primo VE UI: paste into your view's custom.js,
 * after the line that creates the module:
 *     var app = angular.module('viewCustom', ['angularLoad']);
 * and set KAUKO_URL below. (Also served at <Kauko>/widgets/kauko-primo-classic.js.)
 *
 * It adds Kauko's "Request via interlibrary loan" button to the full
 * record (prmFullViewAfter) and the "Interlibrary loans" list to My
 * Account's overview (prmAccountOverviewAfter). Primo allows one component
 * per hook: if custom.js already has one of these, add the two lines of
 * its controller to yours. The elements and the data come from Kauko; if
 * Kauko does not answer within 2 s, a plain "Open Kauko" link is shown.
 */
(function () {
  "use strict";
  var KAUKO_URL = "https://kauko.example.fi"; // your Kauko, no trailing slash
  var KAUKO_OPTIONS = {
    // Primo resource types that get the button ("book", "article", ...);
    // empty: every type.
    showFor: [],
    // "unavailable": only when Primo shows no local availability (print
    // or online); "always": on every record.
    show: "unavailable"
  };

  var OPEN = { fi: "Avaa Kauko", sv: "Öppna Kauko", en: "Open Kauko" };
  var loading = null;
  function lang() {
    var m = /[?&]lang=([a-zA-Z]{2})/.exec(window.location.search);
    var tag = ((m && m[1]) || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
    return OPEN[tag] ? tag : "en";
  }
  function mark(name) {
    try { window.performance.mark(name); } catch (e) { /* old browsers */ }
  }
  // Loads the widget bundle once; rejects after 2 s without it.
  function loadKauko() {
    if (window.KaukoPrimo) return Promise.resolve();
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      var timer = setTimeout(function () { reject(new Error("timeout")); }, 2000);
      s.src = KAUKO_URL + "/widgets/kauko-primo.js";
      s.async = true;
      s.onload = function () { clearTimeout(timer); window.KaukoPrimo ? resolve() : reject(new Error("no bundle")); };
      s.onerror = function () { clearTimeout(timer); reject(new Error("unreachable")); };
      document.head.appendChild(s);
    });
    loading.catch(function () { loading = null; });
    return loading;
  }
  function fallback(host, path) {
    var a = document.createElement("a");
    a.href = KAUKO_URL + path;
    a.className = "kauko-fallback";
    a.textContent = OPEN[lang()];
    host.appendChild(a);
  }
  function mount(host, tag, setup, path) {
    loadKauko().then(function () {
      var el = document.createElement(tag);
      el.setAttribute("kauko-url", KAUKO_URL);
      el.setAttribute("lang", lang());
      setup(el);
      host.appendChild(el);
    }, function () { fallback(host, path); });
  }
  function primoToken() {
    try {
      var t = window.sessionStorage.getItem("primoExploreJwt");
      return t && t.charAt(0) === "\"" ? JSON.parse(t) : t;
    } catch (e) { return null; }
  }

  angular.module("viewCustom").component("prmFullViewAfter", {
    bindings: { parentCtrl: "<" },
    controller: ["$element", function ($element) {
      var ctrl = this;
      ctrl.$postLink = function () {
        mark("kauko-hook-button");
        mount($element[0], "kauko-ill-button", function (el) {
          if (KAUKO_OPTIONS.showFor.length) el.setAttribute("show-for", KAUKO_OPTIONS.showFor.join(","));
          el.setAttribute("show", KAUKO_OPTIONS.show);
          el.record = ctrl.parentCtrl && ctrl.parentCtrl.item;
        }, "/request");
      };
    }]
  });

  angular.module("viewCustom").component("prmAccountOverviewAfter", {
    bindings: { parentCtrl: "<" },
    controller: ["$element", function ($element) {
      this.$postLink = function () {
        mark("kauko-hook-status");
        mount($element[0], "kauko-ill-status", function (el) {
          el.token = primoToken;
        }, "/my");
      };
    }]
  });
})();
