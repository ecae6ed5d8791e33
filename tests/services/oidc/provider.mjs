// The OpenID provider Berth's SSO tests sign in against: panva's certified oidc-provider with its own
// development login page (any password is accepted for a known account). tests/services/oidc.py starts it.
//
// The tests change the provider while it runs through /test-admin/ (loopback only, and only with the
// token given in OIDC_ADMIN_TOKEN): an account's claims (its groups), a client's metadata (the redirect
// URIs of a live server whose port is known only later), and the events seen so far (end_session).
import crypto from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const adminToken = process.env.OIDC_ADMIN_TOKEN;
const issuer = `http://127.0.0.1:${port}`;

// account id -> claims; an account not listed here cannot sign in.
const accounts = new Map();
const events = [];

// The key comes from the test run, which signs tokens of its own with it (an expired one, one for another
// audience) to check that Berth refuses them for what they are, not merely for an unknown signature.
const signingKey = JSON.parse(process.env.OIDC_SIGNING_KEY);

// API tokens for the client-credentials client are JWTs for this audience, which Berth checks.
const API_AUDIENCE = process.env.OIDC_API_AUDIENCE || 'urn:berth:api';

const provider = new Provider(issuer, {
  jwks: { keys: [{ ...signingKey, alg: 'RS256', use: 'sig' }] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  // Claims in the ID token as well as at userinfo, as Entra ID and Keycloak put groups there.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Only client-credentials tokens are for Berth's API; the code flow's token stays one for userinfo.
      defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? API_AUDIENCE : undefined),
      useGrantedResource: () => false,
      getResourceServerInfo: () => ({
        scope: 'berth',
        audience: API_AUDIENCE,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // Berth is a first-party client: no consent page, every requested scope is granted.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    if (!accounts.has(id)) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...accounts.get(id) }; } };
  },
  async extraTokenClaims(ctx, token) {
    // A client-credentials token names its client, which Berth maps to a service user.
    return token.kind === 'ClientCredentials' ? { client_id: token.clientId } : undefined;
  },
});
provider.on('end_session.success', () => events.push('end_session.success'));
provider.on('grant.success', () => events.push('grant.success'));

const oidc = provider.callback();

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString() || '{}');
}

async function admin(req, res) {
  if (req.headers.authorization !== `Bearer ${adminToken}`) {
    res.writeHead(401).end();
    return;
  }
  const [, , kind, id] = req.url.split('/');
  if (req.method === 'PUT' && kind === 'accounts') {
    accounts.set(decodeURIComponent(id), await readJson(req));
  } else if (req.method === 'PUT' && kind === 'clients') {
    await provider.Client.adapter.upsert(decodeURIComponent(id), await readJson(req));
  } else if (req.method === 'GET' && kind === 'events') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(events));
    return;
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(204).end();
}

http.createServer((req, res) => {
  if (req.url.startsWith('/test-admin/')) {
    admin(req, res).catch((error) => res.writeHead(400).end(String(error)));
  } else {
    oidc(req, res);
  }
}).listen(port, '127.0.0.1', () => console.log(`listening on ${issuer}`));
