// A real OpenID Connect provider (panva/oidc-provider, an OpenID-certified implementation) on loopback, for the
// tests of "log in with the institution's account". Not a stub: discovery, authorization code flow with PKCE,
// client authentication, signed ID tokens (RS256) and the JWKS are the library's own.
//
//   node provider.mjs --port 4455 --redirect-uri http://127.0.0.1:8080/organiser/login/oidc/callback
//
// Also from the environment: OIDC_PORT, OIDC_REDIRECT_URI, OIDC_CLIENT_ID (default cloverleaf-portal),
// OIDC_CLIENT_SECRET (default cloverleaf-test-secret), OIDC_ACCOUNTS (JSON: {"<login>": {claims}}, replacing the
// test accounts below). The login page is oidc-provider's development one: any password is taken, the login names
// the account. Prints "ready <issuer>" on stdout once it listens.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import process from 'node:process';

import Provider from 'oidc-provider';

function argument(name, env, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at !== -1 && process.argv[at + 1]) return process.argv[at + 1];
  return process.env[env] || fallback;
}

const port = Number(argument('port', 'OIDC_PORT', '4455'));
const redirectUris = argument('redirect-uri', 'OIDC_REDIRECT_URI', 'http://127.0.0.1:8080/organiser/login/oidc/callback')
  .split(',');
const clientId = argument('client-id', 'OIDC_CLIENT_ID', 'cloverleaf-portal');
const clientSecret = argument('client-secret', 'OIDC_CLIENT_SECRET', 'cloverleaf-test-secret');
const issuer = `http://127.0.0.1:${port}`;

// The test accounts: one in a group Cloverleaf maps to a team, one in no mapped group.
const accounts = process.env.OIDC_ACCOUNTS ? JSON.parse(process.env.OIDC_ACCOUNTS) : {
  'ana.events': {
    email: 'ana.events@charite.example',
    email_verified: true,
    name: 'Ana Events',
    groups: ['charite-events', 'charite-staff'],
  },
  'nils.nobody': {
    email: 'nils.nobody@charite.example',
    email_verified: true,
    name: 'Nils Nobody',
    groups: ['charite-staff'],
  },
};

// A fresh RSA key per run: ID tokens are RS256, as most institutions' providers sign them.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: `test-${randomBytes(4).toString('hex')}` };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // client_secret_basic; the portal may also send client_secret_post.
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signing] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // The claims of the requested scopes go into the ID token too (the portal reads no userinfo).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

provider.on('server_error', (_ctx, error) => console.error('server_error', error));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
