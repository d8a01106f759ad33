// Stand-in Primo pages for the end2end tests and scripts/bench-primo.sh, on
// an origin of their own (another loopback port than Kauko's):
//
//   /classic.html  a Primo VE (classic UI) page: real AngularJS 1.8, the
//                  view's custom.js with Kauko's classic shim pasted in as
//                  the README says (frontend/primo/kauko-primo-classic.js),
//                  and Primo's prm-full-view / prm-account-overview
//                  components whose "after" hooks the shim fills.
//   /nde.html      a Primo NDE page: its slot elements, and NDE's add-on
//                  loading (a Module Federation remote: init, get, mount)
//                  of Kauko's add-on (frontend/primo/kauko-primo-nde.js).
//   /auth/KAUKO_E2E/jwks.json   Ex Libris' part: the institution's public
//                  key (ES256, made at start); the pages carry a JWT signed
//                  with it in sessionStorage.primoExploreJwt, as Primo does.
//
// Query parameters of both pages: lang (fi, sv, en), user (Alma primary id;
// "guest" for a guest token; absent: no token), record (a file name in
// shared/fixtures/primo), kauko (Kauko's URL), show ("always" or
// "unavailable"), addon ("kauko": the add-on from Kauko, default; "local":
// from this origin, as a library hosting it itself).
//
//   node primo-harness.mjs   (PRIMO_HARNESS_PORT, default 3941; KAUKO_URL)
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPairSync, sign, randomBytes } from "node:crypto";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = process.env.KAUKO_TEST_FIXTURES ?? join(here, "..", "..", "shared", "fixtures");
const port = Number(process.env.PRIMO_HARNESS_PORT ?? 3941);
const defaultKauko = process.env.KAUKO_URL ?? "http://127.0.0.1:3137";
const INST = "KAUKO_E2E";

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const kid = `primaPrivateKey-${INST}-${randomBytes(4).toString("hex")}`;
const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid, use: "sig", alg: "ES256" }] };

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
function token(user) {
  const now = Math.floor(Date.now() / 1000);
  const claims = user === "guest"
    ? { inst: INST, isLoggedIn: false, iss: "Prima", iat: now, exp: now + 3600 }
    : { userName: user, user, userGroup: "STAFF_STUDENT", inst: INST, isLoggedIn: true, iss: "Prima", iat: now, exp: now + 3600 };
  const input = `${b64({ alg: "ES256", typ: "JWT", kid })}.${b64(claims)}`;
  const sig = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${sig.toString("base64url")}`;
}

function record(name) {
  if (!/^[a-z0-9_]+$/.test(name)) return null;
  const json = JSON.parse(readFileSync(join(fixtures, "primo", `${name}.json`), "utf8"));
  // A bare PNX (as some fixtures are) becomes a record as Primo hands it.
  return json.pnx ? json : { pnx: json, delivery: json.delivery };
}

const repoFile = (...p) => readFileSync(join(here, "..", ...p), "utf8");
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside <script>: no "</script>" can end it early.
const inline = (v) => JSON.stringify(v).replace(/</g, "\\u003c");

function options(q) {
  const kauko = (q.get("kauko") || defaultKauko).replace(/\/+$/, "");
  const user = q.get("user");
  const rec = q.get("record") || "record_ve_thesis_utk";
  return {
    kauko,
    lang: (q.get("lang") || "en").slice(0, 2),
    show: q.get("show") === "always" ? "always" : "unavailable",
    token: user ? token(user) : null,
    record: record(rec),
    addon: q.get("addon") === "local" ? `/kauko-primo-nde.js` : `${kauko}/widgets/kauko-primo-nde.js`,
  };
}

// What Primo does before any customisation runs: the JWT in sessionStorage.
const primoSession = (o) => `<script>
${o.token ? `sessionStorage.setItem("primoExploreJwt", ${inline(JSON.stringify(o.token))});` : `sessionStorage.removeItem("primoExploreJwt");`}
window.HARNESS_RECORD = ${inline(o.record)};
</script>`;

function classicPage(o) {
  return `<!DOCTYPE html><html lang="${esc(o.lang)}"><head><meta charset="utf-8">
<title>Primo VE (classic UI) harness</title>
${primoSession(o)}
<script src="/angular.min.js"></script>
<script src="/custom.js?kauko=${encodeURIComponent(o.kauko)}&show=${o.show}"></script>
<script>
// Primo VE's own components, reduced to their "after" hooks.
angular.module("primoHarness", ["viewCustom"])
  .component("prmFullView", {
    template: '<section><h2>{{$ctrl.title}}</h2><prm-full-view-after parent-ctrl="$ctrl"></prm-full-view-after></section>',
    controller: function () { this.item = window.HARNESS_RECORD; this.title = ((this.item.pnx.display || {}).title || [])[0]; }
  })
  .component("prmAccountOverview", {
    template: '<section><h2>My Account</h2><prm-account-overview-after parent-ctrl="$ctrl"></prm-account-overview-after></section>'
  });
</script>
</head><body><main><h1>Primo VE</h1>
<prm-full-view></prm-full-view>
<prm-account-overview></prm-account-overview>
</main>
<script>angular.bootstrap(document.querySelector("main"), ["primoHarness"]);</script>
</body></html>`;
}

// The view's custom.js: the module line every view has, then Kauko's shim
// pasted in with KAUKO_URL (and the show option) set.
function customJs(q) {
  const kauko = (q.get("kauko") || defaultKauko).replace(/\/+$/, "");
  const shim = repoFile("frontend", "primo", "kauko-primo-classic.js")
    .replace('var KAUKO_URL = "https://kauko.example.fi";', `var KAUKO_URL = ${JSON.stringify(kauko)};`)
    .replace('show: "unavailable"', `show: ${JSON.stringify(q.get("show") === "always" ? "always" : "unavailable")}`);
  return `(function () {\n  "use strict";\n  var app = angular.module("viewCustom", []);\n})();\n${shim}`;
}

function ndePage(o) {
  const params = { kaukoUrl: o.kauko, show: o.show };
  return `<!DOCTYPE html><html lang="${esc(o.lang)}"><head><meta charset="utf-8">
<title>Primo NDE harness</title>
${primoSession(o)}
</head><body><main><h1>Primo NDE</h1>
<section><h2>Full display</h2><nde-full-display-service-container-after></nde-full-display-service-container-after></section>
<section><h2>My Account</h2><nde-account-overview-after></nde-account-overview-after></section>
</main>
<script>
// NDE's add-on loading, reduced: the add-on's URL and JSON parameters as
// configured in Alma; the remote container's init and get; each slot the
// add-on names gets its element and the host component.
(function () {
  var parameters = ${inline(params)};
  var s = document.createElement("script");
  s.src = ${inline(o.addon)};
  s.onload = function () {
    window.kaukoPrimo.init({}).then(function () { return window.kaukoPrimo.get("./KaukoAddon"); }).then(function (factory) {
      var addon = factory();
      addon.slots.forEach(function (slot) {
        document.querySelectorAll(slot).forEach(function (el) {
          addon.mount(slot, el, { hostComponent: { searchResult: window.HARNESS_RECORD }, moduleParameters: parameters });
        });
      });
    });
  };
  s.onerror = function () { document.body.setAttribute("data-addon-failed", "true"); };
  document.head.appendChild(s);
})();
</script>
</body></html>`;
}

const server = createServer((req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  const send = (status, type, body) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
  try {
    switch (url.pathname) {
      case "/healthz":
        return send(200, "text/plain", "ok");
      case `/auth/${INST}/jwks.json`:
        return send(200, "application/json", JSON.stringify(jwks));
      case "/angular.min.js":
        return send(200, "text/javascript", readFileSync(join(here, "node_modules", "angular", "angular.min.js")));
      case "/custom.js":
        return send(200, "text/javascript", customJs(url.searchParams));
      case "/kauko-primo-nde.js":
        return send(200, "text/javascript", repoFile("frontend", "primo", "kauko-primo-nde.js"));
      case "/classic.html":
        return send(200, "text/html; charset=utf-8", classicPage(options(url.searchParams)));
      case "/nde.html":
        return send(200, "text/html; charset=utf-8", ndePage(options(url.searchParams)));
      case "/favicon.ico":
        return send(204, "image/x-icon", "");
      default:
        return send(404, "text/plain", "not found");
    }
  } catch (e) {
    return send(500, "text/plain", String(e));
  }
});
server.listen(port, "127.0.0.1", () => console.log(`Primo harness at http://127.0.0.1:${port} (Kauko ${defaultKauko})`));
