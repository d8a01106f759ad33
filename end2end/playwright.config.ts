import { defineConfig, devices } from "@playwright/test";

// Kauko's end2end tests run against a Kauko built by `cargo leptos build`
// (scripts/test.sh), started here on a free port with a fresh database.
// The browser is Debian's Chromium: Playwright's own downloads do not work
// on this kind of machine.
const port = Number(process.env.KAUKO_E2E_PORT ?? 3137);
const idpPort = Number(process.env.KAUKO_E2E_IDP_PORT ?? 3938);
const upstreamPort = Number(process.env.KAUKO_E2E_UPSTREAM_PORT ?? 3939);
// A second Kauko on the Alma adapter, talking to the Alma API simulator.
const almaKaukoPort = Number(process.env.KAUKO_E2E_ALMA_KAUKO_PORT ?? 3138);
const almaSimPort = Number(process.env.KAUKO_E2E_ALMA_SIM_PORT ?? 3940);
const chromium = process.env.KAUKO_CHROMIUM ?? "/usr/bin/chromium";
// Stand-in Primo pages on another origin (primo-harness.mjs, primo.spec.ts).
const primoPort = Number(process.env.KAUKO_E2E_PRIMO_PORT ?? 3941);

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: chromium,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "desktop", testIgnore: /alma\.spec/, use: { ...devices["Desktop Chrome"], channel: undefined } },
    { name: "phone", testIgnore: /alma\.spec/, use: { ...devices["Pixel 7"], channel: undefined } },
    {
      name: "alma",
      testMatch: /alma\.spec/,
      use: { ...devices["Desktop Chrome"], channel: undefined, baseURL: `http://127.0.0.1:${almaKaukoPort}` },
    },
  ],
  webServer: [
    {
      // The development identity provider (npm's oidc-provider).
      command: "node server.mjs",
      cwd: "../dev/idp",
      env: {
        IDP_PORT: String(idpPort),
        KAUKO_IDP_REDIRECT_URIS: `http://127.0.0.1:${port}/auth/callback,http://127.0.0.1:${almaKaukoPort}/auth/callback`,
        KAUKO_IDP_POST_LOGOUT_URIS: `http://127.0.0.1:${port}/,http://127.0.0.1:${almaKaukoPort}/`,
      },
      url: `http://127.0.0.1:${idpPort}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // Crossref, DataCite, NCBI, Open Library and Unpaywall, serving the
      // real recorded payloads from shared/fixtures.
      command: "node upstream.mjs",
      env: { UPSTREAM_PORT: String(upstreamPort) },
      url: `http://127.0.0.1:${upstreamPort}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // Primo VE and NDE pages loading Kauko's widgets, and the Primo
      // institution's JWKS (see scripts/serve-e2e.sh).
      command: "node primo-harness.mjs",
      env: { PRIMO_HARNESS_PORT: String(primoPort), KAUKO_URL: `http://127.0.0.1:${port}` },
      url: `http://127.0.0.1:${primoPort}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      command: `bash ../scripts/serve-e2e.sh ${port} ${idpPort} ${upstreamPort}`,
      url: `http://127.0.0.1:${port}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      command: `bash ../scripts/serve-e2e.sh ${almaKaukoPort} ${idpPort} ${upstreamPort} ${almaSimPort}`,
      url: `http://127.0.0.1:${almaKaukoPort}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
  ],
});
