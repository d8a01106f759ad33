// Kauko development identity provider: a real OpenID Connect provider
// (node-oidc-provider) with three demo accounts and its own login form.
// For development and tests only: loopback, plain http, in-memory state,
// a fresh signing key on every start. See README.md.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const env = process.env;
const HOST = '127.0.0.1';
const PORT = Number.parseInt(env.IDP_PORT || '3900', 10);
const ISSUER = env.IDP_ISSUER || `http://${HOST}:${PORT}`;
const CLIENT_ID = env.KAUKO_IDP_CLIENT_ID || 'kauko';
const list = (value) => value.split(',').map((s) => s.trim()).filter(Boolean);

// ---------------------------------------------------------------------------
// Demo accounts. The login form looks them up by username; oidc-provider
// looks them up by accountId (= `sub`).
// ---------------------------------------------------------------------------
const ACCOUNTS = [
  {
    username: 'aino', password: 'aino',
    claims: {
      sub: 'aino.virtanen', name: 'Aino Virtanen', given_name: 'Aino', family_name: 'Virtanen',
      email: 'aino.virtanen@example.fi', eduPersonPrincipalName: 'aino.virtanen@example.fi',
      groups: ['students'],
    },
  },
  {
    // A patron who happens to be university staff, not interlibrary-loan staff.
    username: 'bertil', password: 'bertil',
    claims: {
      sub: 'bertil.lind', name: 'Bertil Lind', given_name: 'Bertil', family_name: 'Lind',
      email: 'bertil.lind@example.fi', eduPersonPrincipalName: 'bertil.lind@example.fi',
      groups: ['staff-members'],
    },
  },
  {
    username: 'staff', password: 'staff',
    claims: {
      sub: 'liisa.staff', name: 'Liisa Kaukopalvelu', given_name: 'Liisa', family_name: 'Kaukopalvelu',
      email: 'liisa.kaukopalvelu@example.fi', eduPersonPrincipalName: 'liisa.kaukopalvelu@example.fi',
      groups: ['kauko-staff'],
    },
  },
  {
    // A second interlibrary-loan staff member (two at one request).
    username: 'staff2', password: 'staff2',
    claims: {
      sub: 'matti.staff', name: 'Matti Kaukopalvelu', given_name: 'Matti', family_name: 'Kaukopalvelu',
      email: 'matti.kaukopalvelu@example.fi', eduPersonPrincipalName: 'matti.kaukopalvelu@example.fi',
      groups: ['kauko-staff'],
    },
  },
];
const bySub = new Map(ACCOUNTS.map((a) => [a.claims.sub, a]));
const byUsername = new Map(ACCOUNTS.map((a) => [a.username, a]));

async function findAccount(_ctx, sub) {
  const account = bySub.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    // oidc-provider filters these down to what the granted scopes allow.
    claims: async () => ({ ...account.claims, email_verified: true }),
  };
}

// ---------------------------------------------------------------------------
// Small accessible HTML pages.
// ---------------------------------------------------------------------------
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body, head = '') {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.5rem;padding:.5rem 1.5rem;font-size:1rem}
[role=alert]{border:2px solid #a00;color:#a00;padding:.5rem;margin-top:1rem}
</style>
${head}
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function loginPage(uid, { clientName, username = '', error } = {}) {
  return page('Sign in – Kauko development IdP', `<h1>Sign in</h1>
<p>Development identity provider${clientName ? ` for ${esc(clientName)}` : ''}. Demo accounts: aino, bertil, staff, staff2 (password = username).</p>
${error ? `<p role="alert" id="login-error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="off">
<label for="username">Username</label>
<input id="username" name="username" type="text" value="${esc(username)}" required${username ? '' : ' autofocus'}${error ? ' aria-describedby="login-error"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" required${username ? ' autofocus' : ''}${error ? ' aria-describedby="login-error"' : ''}>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${esc(uid)}/abort">Cancel and return to the application</a></p>`);
}

// ---------------------------------------------------------------------------
// Provider configuration.
// ---------------------------------------------------------------------------
// A fresh RS256 key per start, unless IDP_KEY_FILE names a file to keep it
// in (created on first start), so that a relying party that cached the JWKS
// and old id_token_hint values survive an IdP restart.
function signingJwk() {
  const file = env.IDP_KEY_FILE;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  if (file) writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: env.KAUKO_IDP_CLIENT_SECRET || 'kauko-dev-secret',
    client_name: 'Kauko',
    redirect_uris: list(env.KAUKO_IDP_REDIRECT_URIS || 'http://127.0.0.1:3000/auth/callback'),
    post_logout_redirect_uris: list(env.KAUKO_IDP_POST_LOGOUT_URIS || 'http://127.0.0.1:3000/'),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // client_secret_post is accepted too: oidc-provider treats the two
    // secret methods as interchangeable.
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  responseTypes: ['code'],
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'profile', 'email'],
  claims: {
    // groups and eduPersonPrincipalName ride on `openid`, so every sign-in
    // carries them whatever else the relying party asks for.
    openid: ['sub', 'groups', 'eduPersonPrincipalName'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
  },
  // Put scope-requested claims in the ID token even though an access token
  // is issued too, so the relying party needs no userinfo call.
  conformIdTokenClaims: false,
  findAccount,
  // Auto-consent: the Kauko client is first-party, so whatever OIDC scopes
  // and claims it asks for are granted without a consent screen.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const accountId = oidc.session.accountId;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== accountId) {
      grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId });
    }
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Sign out straight away: submit the provider's xsrf form with
      // logout=yes from script (a button remains for no-script browsers).
      async logoutSource(ctx, form) {
        const autoForm = form.replace('</form>',
          '<input type="hidden" name="logout" value="yes"><noscript><button type="submit">Sign out</button></noscript></form>');
        ctx.type = 'html';
        ctx.body = page('Signing out – Kauko development IdP', `<h1>Signing out…</h1>\n${autoForm}`,
          '<script>document.addEventListener("DOMContentLoaded",function(){document.forms[0].submit()})</script>');
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Signed out – Kauko development IdP', '<h1>Signed out</h1>\n<p>You have been signed out of the development identity provider.</p>');
      },
    },
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error – Kauko development IdP', `<h1>Something went wrong</h1>
<p role="alert">${esc(out.error)}: ${esc(out.error_description || '')}</p>`);
  },
  // Plain http on loopback: oidc-provider adds `Secure` only on https
  // requests, and browsers drop SameSite=None cookies that lack it (8.x's
  // default for the session cookie), so every cookie here is SameSite=Lax.
  cookies: {
    keys: ['kauko-dev-idp-cookie-key'],
    long: { httpOnly: true, sameSite: 'lax', signed: true },
    short: { httpOnly: true, sameSite: 'lax', signed: true },
  },
  jwks: { keys: [signingJwk()] },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, IdToken: 600,
    Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600,
  },
  clientBasedCORS: () => false, // the relying party is a server, not a browser app
};

const provider = new Provider(ISSUER, configuration);
provider.on('server_error', (_ctx, err) => console.error('idp server_error:', err));

// ---------------------------------------------------------------------------
// Interaction routes (login form), then everything else to the provider.
// ---------------------------------------------------------------------------
function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
  });
  res.end(body);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (!(err instanceof errors.SessionNotFound)) throw err;
    return send(res, 400, page('Sign-in expired – Kauko development IdP',
      '<h1>Sign-in expired</h1>\n<p role="alert">This sign-in attempt has expired. Go back to the application and sign in again.</p>'));
  }
  if (details.uid !== uid) return send(res, 400, page('Bad request', '<h1>Bad request</h1>'));
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName;

  if (action === 'abort' && req.method === 'GET') {
    return provider.interactionFinished(req, res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false });
  }

  if (details.prompt.name === 'consent') {
    // Only reached if the relying party forces prompt=consent: grant what
    // is missing and continue without a screen.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
  }

  if (details.prompt.name !== 'login') {
    return send(res, 400, page('Bad request', '<h1>Unsupported interaction</h1>'));
  }
  if (!action && req.method === 'GET') {
    return send(res, 200, loginPage(uid, { clientName }));
  }
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const username = form.get('username') || '';
    const account = byUsername.get(username.trim().toLowerCase());
    if (!account || account.password !== form.get('password')) {
      return send(res, 200, loginPage(uid, { clientName, username, error: 'Invalid username or password' }));
    }
    return provider.interactionFinished(req, res, { login: { accountId: account.claims.sub } },
      { mergeWithLastSubmission: false });
  }
  return send(res, 405, page('Method not allowed', '<h1>Method not allowed</h1>'));
}

const providerCallback = provider.callback();
const INTERACTION = /^\/interaction\/([\w-]+)(?:\/(login|abort))?$/;

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url, ISSUER);
  try {
    if (pathname === '/healthz') return send(res, 200, 'ok', 'text/plain; charset=utf-8');
    const m = INTERACTION.exec(pathname);
    if (m) return await interaction(req, res, m[1], m[2]);
    return providerCallback(req, res);
  } catch (err) {
    console.error('idp error:', err);
    if (!res.headersSent) send(res, 500, page('Server error', '<h1>Server error</h1>'));
    else res.end();
  }
});

server.listen(PORT, HOST, () => {
  console.log(`idp listening on http://${HOST}:${PORT}`);
});

function shutdown(signal) {
  console.log(`idp: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
