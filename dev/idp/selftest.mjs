// Self-test for the development IdP: starts server.mjs on a free loopback
// port and walks the authorization-code + PKCE flow the way Kauko's server
// does, with fetch() and a small cookie jar (no browser).
//
//   node selftest.mjs        (prints "selftest: N passed, M failed")

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createRemoteJWKSet, jwtVerify } from 'jose';

const CLIENT_ID = 'kauko-selftest';
const CLIENT_SECRET = 'selftest-secret';
const REDIRECT_URI = 'http://127.0.0.1:39999/auth/callback'; // never fetched
const POST_LOGOUT_URI = 'http://127.0.0.1:39999/';

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed += 1; else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? ` — ${detail}` : ''}`);
  return ok;
}

// --- a minimal cookie jar: name + path, path-prefix matching, deletion ---
class CookieJar {
  #cookies = new Map(); // `${path} ${name}` -> { name, value, path }

  seen = []; // every Set-Cookie line received, to check its attributes

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      this.seen.push(line);
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${path} ${name}`;
      if (expired) this.#cookies.delete(key); else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }

  names() { return [...this.#cookies.values()].map((c) => c.name).sort(); }

  clear() { this.#cookies.clear(); }
}

const jar = new CookieJar();

// One request with the jar; never follows redirects itself.
async function request(url, { method = 'GET', form, headers = {} } = {}) {
  const init = { method, redirect: 'manual', headers: { ...headers } };
  const cookie = jar.header(url);
  if (cookie) init.headers.cookie = cookie;
  if (form) {
    init.body = new URLSearchParams(form).toString();
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await fetch(url, init);
  jar.store(response);
  return response;
}

// Follows redirects (GET) until a non-redirect answer or a Location on the
// relying party's redirect URI, which is captured instead of fetched.
async function follow(response, from) {
  let url = from;
  for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops += 1) {
    const next = new URL(response.headers.get('location'), url).href;
    if (next.startsWith(REDIRECT_URI) || next.startsWith(POST_LOGOUT_URI)) return { callback: new URL(next) };
    url = next;
    response = await request(url);
  }
  return { response, url, body: await response.text() };
}

const b64url = (buf) => buf.toString('base64url');

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startIdp(port, extraEnv = {}) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], {
    env: {
      ...process.env,
      IDP_PORT: String(port),
      KAUKO_IDP_CLIENT_ID: CLIENT_ID,
      KAUKO_IDP_CLIENT_SECRET: CLIENT_SECRET,
      KAUKO_IDP_REDIRECT_URIS: `http://127.0.0.1:39998/unused, ${REDIRECT_URI}`,
      KAUKO_IDP_POST_LOGOUT_URIS: POST_LOGOUT_URI,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`idp did not start:\n${log}`)), 15_000);
    child.stdout.on('data', (d) => {
      log += d;
      if (log.includes(`idp listening on http://127.0.0.1:${port}`)) { clearTimeout(timer); resolve(); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`idp exited ${code}:\n${log}`)); });
  });
  return { child, log: () => log };
}

// SIGTERM, then the exit code (or 'timeout', after which it is killed).
async function stopIdp({ child }) {
  const exited = new Promise((resolve) => { child.on('exit', (code) => resolve(code)); });
  child.kill('SIGTERM');
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), 5000); });
  const code = await Promise.race([exited, timeout]);
  clearTimeout(timer);
  if (code === 'timeout') child.kill('SIGKILL');
  return code;
}

// Starts an authorization request and returns what the relying party keeps.
function authorizeUrl(discovery, extra = {}) {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    state,
    nonce,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

async function tokenRequest(discovery, code, verifier, { post = false } = {}) {
  const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier };
  if (post) Object.assign(form, { client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
  const response = await request(discovery.token_endpoint, {
    method: 'POST', form, headers: post ? {} : { authorization: basic },
  });
  return { status: response.status, json: await response.json() };
}

async function main() {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const idp = await startIdp(port);
  try {
    // 1. Health and discovery.
    const health = await fetch(`${issuer}/healthz`);
    check('GET /healthz answers 200 "ok"', health.status === 200 && (await health.text()) === 'ok');

    const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    check('discovery: issuer, S256, end_session and claims', discovery.issuer === issuer
      && discovery.code_challenge_methods_supported?.join() === 'S256'
      && discovery.end_session_endpoint === `${issuer}/session/end`
      && ['groups', 'eduPersonPrincipalName'].every((c) => discovery.claims_supported.includes(c)),
    JSON.stringify(discovery));

    // 2. Authorization request -> login form.
    const auth = authorizeUrl(discovery);
    const login = await follow(await request(auth.url), auth.url);
    const formAction = /<form method="post" action="([^"]+)"/.exec(login.body ?? '')?.[1];
    check('authorization request lands on an accessible login form', login.response?.status === 200
      && /^\/interaction\/[\w-]+\/login$/.test(formAction ?? '')
      && login.body.includes('<html lang="en">') && login.body.includes('<main>')
      && /<label for="username">/.test(login.body) && /<label for="password">/.test(login.body)
      && login.body.includes('<button type="submit">Sign in</button>'),
    `${login.response?.status} ${login.body?.slice(0, 300)}`);
    const actionUrl = new URL(formAction, login.url).href;

    // 3. Wrong password -> the form again, with the error in role="alert".
    const bad = await request(actionUrl, { method: 'POST', form: { username: 'aino', password: 'wrong' } });
    const badBody = await bad.text();
    check('wrong password re-renders the form with "Invalid username or password"', bad.status === 200
      && /<p role="alert"[^>]*>Invalid username or password<\/p>/.test(badBody));

    // 4. Right password -> straight back to the redirect URI (no consent).
    const good = await request(actionUrl, { method: 'POST', form: { username: 'aino', password: 'aino' } });
    const { callback } = await follow(good, actionUrl);
    const code = callback?.searchParams.get('code');
    check('sign-in redirects to redirect_uri with code, same state and iss', Boolean(code)
      && callback.searchParams.get('state') === auth.state && callback.searchParams.get('iss') === issuer,
    callback?.href);

    // Cookies must work over plain http: no Secure, SameSite=Lax (a browser
    // drops SameSite=None without Secure).
    check('session cookie set; every cookie is SameSite=Lax and not Secure',
      jar.names().includes('_session') && jar.seen.length > 0
      && jar.seen.every((l) => /;\s*samesite=lax/i.test(l) && !/;\s*secure/i.test(l)), jar.seen.join('\n'));

    // 5. Code exchange with the PKCE verifier (client_secret_basic).
    const tokens = await tokenRequest(discovery, code, auth.verifier);
    check('token endpoint returns id_token and access_token', tokens.status === 200
      && tokens.json.id_token && tokens.json.access_token && tokens.json.token_type === 'Bearer',
    JSON.stringify(tokens.json));

    // 6. ID token: signature against the JWKS, and its claims.
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    let claims = {};
    try {
      ({ payload: claims } = await jwtVerify(tokens.json.id_token, jwks, {
        issuer, audience: CLIENT_ID, algorithms: ['RS256'],
      }));
    } catch (err) {
      claims = { error: err.message };
    }
    check('ID token verifies (RS256, iss, aud) and carries nonce, sub, profile, email, ePPN, groups',
      claims.nonce === auth.nonce && claims.sub === 'aino.virtanen' && claims.name === 'Aino Virtanen'
      && claims.given_name === 'Aino' && claims.family_name === 'Virtanen'
      && claims.email === 'aino.virtanen@example.fi'
      && claims.eduPersonPrincipalName === 'aino.virtanen@example.fi'
      && JSON.stringify(claims.groups) === '["students"]',
    JSON.stringify(claims));

    // 7. Userinfo works too.
    const userinfo = await (await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.json.access_token}` },
    })).json();
    check('userinfo returns the same sub and groups', userinfo.sub === 'aino.virtanen'
      && JSON.stringify(userinfo.groups) === '["students"]', JSON.stringify(userinfo));

    // 8. Replaying the code fails (client_secret_post this time).
    const replay = await tokenRequest(discovery, code, auth.verifier, { post: true });
    check('replayed code is rejected with invalid_grant', replay.status === 400
      && replay.json.error === 'invalid_grant', JSON.stringify(replay.json));

    // 9. PKCE is required: no code_challenge -> error back to the client.
    const noPkce = authorizeUrl(discovery, { code_challenge: '', code_challenge_method: '' });
    const noPkceUrl = noPkce.url.replace(/&code_challenge=&code_challenge_method=/, '');
    const noPkceResult = await follow(await request(noPkceUrl), noPkceUrl);
    check('authorization without code_challenge is refused (invalid_request)',
      noPkceResult.callback?.searchParams.get('error') === 'invalid_request', noPkceResult.callback?.href);

    // 10. Single sign-on: a second request goes straight to the callback;
    //     a wrong code_verifier is then rejected.
    const again = authorizeUrl(discovery);
    const sso = await follow(await request(again.url), again.url);
    const ssoCode = sso.callback?.searchParams.get('code');
    const wrongVerifier = ssoCode ? await tokenRequest(discovery, ssoCode, b64url(randomBytes(32))) : {};
    check('SSO re-authorizes without the form; wrong code_verifier gives invalid_grant', Boolean(ssoCode)
      && wrongVerifier.json?.error === 'invalid_grant', JSON.stringify(wrongVerifier.json));

    // 11. RP-initiated logout: the page auto-submits; confirm -> post-logout URI.
    const endUrl = new URL(discovery.end_session_endpoint);
    endUrl.search = new URLSearchParams({
      id_token_hint: tokens.json.id_token, post_logout_redirect_uri: POST_LOGOUT_URI,
      client_id: CLIENT_ID, state: 'bye',
    }).toString();
    const endPage = await request(endUrl.href);
    const endBody = await endPage.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(endBody)?.[1];
    const confirmAction = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(endBody)?.[1];
    const hasLogoutYes = endBody.includes('name="logout" value="yes"');
    const confirm = xsrf && confirmAction
      ? await request(new URL(confirmAction, endUrl).href, { method: 'POST', form: { xsrf, logout: 'yes' } })
      : undefined;
    const bye = confirm && new URL(confirm.headers.get('location') ?? '', issuer);
    check('end_session answers with an auto-submitting form; confirm redirects to post_logout_redirect_uri',
      endPage.status === 200 && hasLogoutYes && confirm?.status === 303
      && bye.href === `${POST_LOGOUT_URI}?state=bye`, `${endPage.status} ${bye?.href}`);

    // 12. After logout the form is shown again; sign in as ILL staff.
    const third = authorizeUrl(discovery);
    const form3 = await follow(await request(third.url), third.url);
    const action3 = /<form method="post" action="([^"]+)"/.exec(form3.body ?? '')?.[1];
    let staffClaims = {};
    if (action3) {
      const done = await follow(await request(new URL(action3, form3.url).href, {
        method: 'POST', form: { username: 'staff', password: 'staff' },
      }), form3.url);
      const t = await tokenRequest(discovery, done.callback?.searchParams.get('code'), third.verifier);
      ({ payload: staffClaims } = await jwtVerify(t.json.id_token, jwks, { issuer, audience: CLIENT_ID }));
    }
    check('after logout the login form is shown again; staff gets groups ["kauko-staff"]',
      staffClaims.sub === 'liisa.staff' && JSON.stringify(staffClaims.groups) === '["kauko-staff"]'
      && staffClaims.nonce === third.nonce, JSON.stringify(staffClaims));
  } catch (err) {
    check('unexpected error', false, err.stack);
  } finally {
    // 13. Clean shutdown on SIGTERM.
    const code = await stopIdp(idp);
    check('idp exits cleanly (code 0) on SIGTERM', code === 0, `exit: ${code}`);
    if (failed) console.log(`--- idp output ---\n${idp.log()}`);
  }

  // 14. IDP_KEY_FILE keeps the signing key across restarts.
  const dir = mkdtempSync(join(tmpdir(), 'kauko-idp-'));
  try {
    const kids = [];
    for (let i = 0; i < 2; i += 1) {
      const p = await freePort();
      const run = await startIdp(p, { IDP_KEY_FILE: join(dir, 'key.json') });
      try {
        kids.push((await (await fetch(`http://127.0.0.1:${p}/jwks`)).json()).keys[0].kid);
      } finally {
        await stopIdp(run);
      }
    }
    check('IDP_KEY_FILE: the same signing key after a restart', kids[0] && kids[0] === kids[1], kids.join(' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`selftest: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  console.log(`selftest: ${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
