// A stand-in for the citation services Kauko asks (Crossref, DataCite, NCBI
// E-utilities, Open Library, Unpaywall) for the end2end tests: it serves the
// real recorded payloads in ../../shared/fixtures at the services' own paths,
// under one prefix per service, and 404 for anything it has no payload for.
//
//   node upstream.mjs            (UPSTREAM_PORT, default 3939)
//   KAUKO_CROSSREF_URL=http://127.0.0.1:3939/crossref, and so on.
import { createServer } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = process.env.KAUKO_TEST_FIXTURES ?? join(here, "..", "..", "shared", "fixtures");
const port = Number(process.env.UPSTREAM_PORT ?? 3939);

function load(service) {
  const dir = join(fixtures, service);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => readFileSync(join(dir, f), "utf8"));
}

const byKey = (service, keyOf) => {
  const map = new Map();
  for (const text of load(service)) {
    const key = keyOf(JSON.parse(text));
    if (key) map.set(String(key).toLowerCase(), text);
  }
  return map;
};

const crossref = byKey("crossref", (j) => j.message?.DOI);
const datacite = byKey("datacite", (j) => j.data?.attributes?.doi ?? j.data?.id);
const unpaywall = byKey("unpaywall", (j) => j.doi);
const pubmed = load("pubmed").map((t) => JSON.parse(t));
const openlibraryBooks = load("openlibrary")
  .map((t) => JSON.parse(t))
  .filter((j) => Object.keys(j).some((k) => k.startsWith("ISBN:")));

let hits = 0;

const server = createServer((req, res) => {
  const url = new URL(req.url, `http://127.0.0.1:${port}`);
  const path = decodeURIComponent(url.pathname);
  hits++;
  const send = (status, body) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const notFound = () => send(404, { status: "error", message: "Resource not found." });
  let m;
  if (path === "/healthz") return send(200, { ok: true, hits });
  if ((m = path.match(/^\/crossref\/works\/(.+)$/))) {
    const body = crossref.get(m[1].toLowerCase());
    return body ? send(200, body) : res.writeHead(404).end("Resource not found.");
  }
  if ((m = path.match(/^\/datacite\/dois\/(.+)$/))) {
    const body = datacite.get(m[1].toLowerCase());
    return body ? send(200, body) : notFound();
  }
  if ((m = path.match(/^\/unpaywall\/(.+)$/))) {
    const body = unpaywall.get(m[1].toLowerCase());
    return body ? send(200, body) : notFound();
  }
  if (path === "/ncbi/esummary.fcgi") {
    const id = url.searchParams.get("id");
    const doc = pubmed.find((j) => j.result?.uids?.includes(id));
    return doc
      ? send(200, doc)
      : send(200, { header: { type: "esummary" }, result: { uids: [], [id]: { uid: id, error: "cannot get document summary" } } });
  }
  if (path === "/openlibrary/api/books") {
    const key = url.searchParams.get("bibkeys");
    const doc = openlibraryBooks.find((j) => key in j);
    return send(200, doc ? { [key]: doc[key] } : {});
  }
  return notFound();
});

server.listen(port, "127.0.0.1", () => console.log(`upstream stand-in on http://127.0.0.1:${port}`));
