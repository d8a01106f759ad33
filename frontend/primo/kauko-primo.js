/*! Kauko for Primo: <kauko-ill-button> and <kauko-ill-status>.
 * Served by Kauko at /widgets/kauko-primo.js (hand-written ES2020, no
 * build step, no framework). Loaded into Primo by the classic VE shim
 * (kauko-primo-classic.js) or the NDE add-on (kauko-primo-nde.js).
 *
 * <kauko-ill-button>: set `.record` to the Primo record (`{pnx, delivery}`
 *   or a bare PNX). Renders a link to Kauko's request form, prefilled from
 *   the record (Kauko maps the fields: app/src/domain/pnx.rs). Attributes:
 *   kauko-url, lang, show-for ("book,article": Primo resource types;
 *   empty = all), show ("unavailable" (default): hidden when Primo shows
 *   local availability; "always").
 * <kauko-ill-status>: the signed-in Primo user's ILL requests and loans.
 *   Sends Primo's JWT (`.token`, or sessionStorage.primoExploreJwt) to
 *   Kauko; after 2 s without an answer, a plain "Open Kauko" link.
 * Language: the `lang` attribute, else Primo's `lang` URL parameter, else
 * <html lang>; fi, sv or en.
 */
(() => {
  "use strict";
  if (window.KaukoPrimo) return;

  // The PNX fields Kauko maps (app/src/domain/pnx.rs FIELDS; a test
  // compares the two lists).
  const FIELDS = [
    "addata.genre", "addata.ristype", "addata.format", "addata.atitle",
    "addata.btitle", "addata.jtitle", "addata.stitle", "addata.addtitle",
    "addata.au", "addata.aulast", "addata.aufirst", "addata.aucorp",
    "addata.volume", "addata.issue", "addata.spage", "addata.epage",
    "addata.pages", "addata.date", "addata.risdate", "addata.issn",
    "addata.eissn", "addata.isbn", "addata.eisbn", "addata.doi",
    "addata.pmid", "addata.pub", "addata.cop", "addata.edition",
    "display.title", "display.creator", "display.type",
    "display.creationdate", "sort.creationdate",
  ];
  // Primo availability values that mean the library already has it.
  const LOCAL = [
    "available_in_library", "available_in_institution",
    "available_in_maininstitution", "available_in_my_institution",
    "available_in_maininstitution_more", "fulltext", "fulltext_linktorsrc",
    "fulltext_multiple", "not_restricted",
  ];
  const TEXT = {
    fi: {
      button: "Tilaa kaukolainana",
      title: "Kaukolainat",
      requests: "Tilaukset",
      loans: "Lainat",
      loading: "Ladataan kaukolainoja…",
      none: "Sinulla ei ole kaukolainatilauksia.",
      due: "Eräpäivä",
      open: "Avaa Kauko",
      signin: "Kirjaudu sisään nähdäksesi kaukolainasi.",
      error: "Kaukolainoja ei voi näyttää juuri nyt.",
      all: "Kaikki kaukolainat Kaukossa",
    },
    sv: {
      button: "Beställ som fjärrlån",
      title: "Fjärrlån",
      requests: "Beställningar",
      loans: "Lån",
      loading: "Fjärrlånen laddas…",
      none: "Du har inga fjärrlånebeställningar.",
      due: "Förfallodag",
      open: "Öppna Kauko",
      signin: "Logga in för att se dina fjärrlån.",
      error: "Fjärrlånen kan inte visas just nu.",
      all: "Alla fjärrlån i Kauko",
    },
    en: {
      button: "Request via interlibrary loan",
      title: "Interlibrary loans",
      requests: "Requests",
      loans: "Loans",
      loading: "Loading interlibrary loans…",
      none: "You have no interlibrary loan requests.",
      due: "Due",
      open: "Open Kauko",
      signin: "Sign in to see your interlibrary loans.",
      error: "Your interlibrary loans cannot be shown right now.",
      all: "All interlibrary loans in Kauko",
    },
  };
  const TIMEOUT_MS = 2000;

  // Where Kauko is: the origin (and path prefix) this script came from.
  const script = document.currentScript;
  const BASE = script && script.src
    ? script.src.replace(/\/widgets\/kauko-primo\.js(\?.*)?$/, "")
    : "";

  const language = (el) => {
    let tag = el.getAttribute("lang");
    if (!tag) {
      try { tag = new URLSearchParams(location.search).get("lang"); } catch (_) { tag = ""; }
    }
    if (!tag) tag = document.documentElement.lang || "";
    tag = tag.slice(0, 2).toLowerCase();
    return TEXT[tag] ? tag : "en";
  };
  const baseOf = (el) => (el.getAttribute("kauko-url") || BASE).replace(/\/+$/, "");
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const mark = (name) => { try { performance.mark(name); } catch (_) { /* old browsers */ } };

  // Shared look: Primo-neutral, inherits the host's font, AA contrast.
  const STYLE = `<style>
:host{display:block;font:inherit;color:#1f1f1f;margin:.5em 0}
:host([hidden]){display:none}
a{color:#0b5394}
a:focus-visible{outline:3px solid #0b5394;outline-offset:2px}
.btn{display:inline-block;padding:.45em .9em;border-radius:4px;background:#0b5394;color:#fff;text-decoration:none;font-weight:600}
.btn:hover{background:#083d6e}
.btn:focus-visible{outline-color:#083d6e}
h2{font-size:1.1em;margin:0 0 .4em}
h3{font-size:1em;margin:.6em 0 .2em}
ul{list-style:none;margin:0;padding:0}
li{padding:.35em 0;border-top:1px solid #d6d6d6}
.label{display:inline-block;margin-left:.4em;padding:0 .4em;border-radius:3px;background:#e8eef5;color:#1f1f1f;font-size:.9em}
.over{background:#fbe3e3;color:#7a0000}
p{margin:.3em 0}
</style>`;

  /** The record's fields as the query Kauko's /primo/request reads. */
  const recordQuery = (record) => {
    const pnx = (record && (record.pnx || record)) || {};
    const q = new URLSearchParams();
    for (const field of FIELDS) {
      const [section, key] = field.split(".");
      let values = pnx[section] && pnx[section][key];
      if (values == null) continue;
      if (!Array.isArray(values)) values = [values];
      for (const v of values.slice(0, 12)) {
        if (typeof v === "string" && v.trim()) q.append(field, v.slice(0, 500));
      }
    }
    return q;
  };

  const typeOf = (record) => {
    const pnx = (record && (record.pnx || record)) || {};
    const t = (pnx.display && pnx.display.type) || (pnx.addata && pnx.addata.genre) || [];
    return String((Array.isArray(t) ? t[0] : t) || "").toLowerCase();
  };

  const locallyAvailable = (record) => {
    const d = record && record.delivery;
    const a = (d && (d.availability || d.displayedAvailability)) || [];
    return (Array.isArray(a) ? a : [a]).some((v) => LOCAL.includes(String(v)));
  };

  // A property set on the element before this script defined it (a host
  // that wrote <kauko-ill-button> and set .record early) is taken over.
  const upgrade = (el, prop, field) => {
    if (Object.prototype.hasOwnProperty.call(el, prop)) {
      const value = el[prop];
      delete el[prop];
      el[field] = value;
    }
  };

  class KaukoIllButton extends HTMLElement {
    static get observedAttributes() { return ["lang", "show-for", "show", "kauko-url"]; }
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._record = null;
    }
    set record(r) { this._record = r; this.render(); }
    get record() { return this._record; }
    connectedCallback() { upgrade(this, "record", "_record"); this.render(); }
    attributeChangedCallback() { if (this.isConnected) this.render(); }
    /** Whether the button belongs on this record (the library's rules). */
    wanted() {
      const r = this._record;
      if (!r) return false;
      const types = (this.getAttribute("show-for") || "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
      if (types.length && !types.includes(typeOf(r))) return false;
      if ((this.getAttribute("show") || "unavailable") !== "always" && locallyAvailable(r)) return false;
      return true;
    }
    /** Kauko's address for this record (public: shims and tests use it). */
    href() {
      const lang = language(this);
      const q = recordQuery(this._record);
      q.append("lang", lang);
      return baseOf(this) + "/primo/request?" + q.toString();
    }
    render() {
      const show = this.wanted();
      this.hidden = !show;
      if (!show) { this.shadowRoot.innerHTML = ""; return; }
      const t = TEXT[language(this)];
      this.shadowRoot.innerHTML = STYLE +
        `<a class="btn" part="button" href="${esc(this.href())}">${esc(t.button)}</a>`;
      mark("kauko-button-paint");
    }
  }

  class KaukoIllStatus extends HTMLElement {
    static get observedAttributes() { return ["lang"]; }
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._token = null;
      this._run = 0;
    }
    set token(t) { this._token = t; if (this.isConnected) this.load(); }
    get token() { return this._token; }
    connectedCallback() { upgrade(this, "token", "_token"); this.load(); }
    attributeChangedCallback() { if (this.isConnected) this.load(); }
    tokenValue() {
      let t = this._token;
      if (typeof t === "function") t = t();
      if (!t) {
        try { t = sessionStorage.getItem("primoExploreJwt"); } catch (_) { t = null; }
      }
      if (!t) return null;
      t = String(t).trim();
      if (t.startsWith("\"")) { try { t = JSON.parse(t); } catch (_) { /* keep */ } }
      return t || null;
    }
    frame(body, busy) {
      const t = TEXT[language(this)];
      const level = Math.min(6, Math.max(2, Number(this.getAttribute("heading-level")) || 2));
      this.shadowRoot.innerHTML = STYLE +
        `<section aria-labelledby="h" aria-busy="${busy ? "true" : "false"}"><h${level} id="h">${esc(t.title)}</h${level}>${body}</section>`;
    }
    fallback(message) {
      const t = TEXT[language(this)];
      this.frame((message ? `<p>${esc(message)}</p>` : "") +
        `<p><a class="fallback" href="${esc(baseOf(this) + "/my")}">${esc(t.open)}</a></p>`, false);
      this.painted();
    }
    /** Marks the list shown (and the frame it is painted in), for the benchmark. */
    painted() {
      mark("kauko-status-rendered");
      if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => mark("kauko-status-painted"));
    }
    async load() {
      const run = ++this._run;
      const t = TEXT[language(this)];
      const lang = language(this);
      this.frame(`<p role="status">${esc(t.loading)}</p>`, true);
      mark("kauko-status-paint");
      const token = this.tokenValue();
      if (!token) { this.fallback(t.signin); return; }
      const ctrl = typeof AbortController === "function" ? new AbortController() : null;
      const timer = setTimeout(() => ctrl && ctrl.abort(), TIMEOUT_MS);
      let data = null;
      let status = 0;
      try {
        const res = await fetch(baseOf(this) + "/primo/status?lang=" + lang, {
          headers: { Authorization: "Bearer " + token },
          credentials: "omit",
          signal: ctrl ? ctrl.signal : undefined,
        });
        status = res.status;
        if (res.ok) data = await res.json();
      } catch (_) {
        status = 0;
      } finally {
        clearTimeout(timer);
      }
      if (run !== this._run) return;
      if (!data) {
        this.fallback(status === 401 || status === 403 ? t.signin : "");
        return;
      }
      this.show(data);
    }
    show(data) {
      const t = TEXT[language(this)];
      const requests = (data.requests || []).filter((r) => r.active).slice(0, 10);
      const loans = (data.loans || []).slice(0, 10);
      let body = "";
      if (requests.length || data.requests_error) {
        body += `<h3>${esc(t.requests)}</h3>`;
        if (data.requests_error) body += `<p>${esc(data.requests_error)}</p>`;
        body += "<ul>" + requests.map((r) =>
          `<li><a href="${esc(r.url)}">${esc(r.title)}</a> <span class="label">${esc(r.label)}</span></li>`).join("") + "</ul>";
      }
      if (loans.length || data.loans_error) {
        body += `<h3>${esc(t.loans)}</h3>`;
        if (data.loans_error) body += `<p>${esc(data.loans_error)}</p>`;
        body += "<ul>" + loans.map((l) =>
          `<li><a href="${esc(l.url)}">${esc(l.title)}</a> <span class="label${l.overdue ? " over" : ""}">${esc(l.label)}</span> ` +
          `<span>${esc(t.due)} <time datetime="${esc(l.due)}">${esc(formatDate(l.due, language(this)))}</time></span></li>`).join("") + "</ul>";
      }
      if (!body) body = `<p>${esc(t.none)}</p>`;
      body += `<p><a href="${esc(data.url || baseOf(this) + "/my")}">${esc(t.all)}</a></p>`;
      this.frame(body, false);
      this.painted();
    }
  }

  const formatDate = (iso, lang) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
    if (!m) return String(iso || "");
    const [, y, mo, d] = m;
    return lang === "en" ? `${y}-${mo}-${d}` : `${Number(d)}.${Number(mo)}.${y}`;
  };

  if (!customElements.get("kauko-ill-button")) customElements.define("kauko-ill-button", KaukoIllButton);
  if (!customElements.get("kauko-ill-status")) customElements.define("kauko-ill-status", KaukoIllStatus);
  window.KaukoPrimo = { base: BASE, fields: FIELDS, recordQuery, version: 1 };
  try { window.dispatchEvent(new Event("kauko-primo-ready")); } catch (_) { /* very old browsers */ }
})();
