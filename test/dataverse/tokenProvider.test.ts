import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DataverseTokenProvider } from '../../src/dataverse/tokenProvider';
import { DataverseAuthError } from '../../src/dataverse/errors';
import { makeTestCertificates, type TestCertificates } from './support/testCertificates';
import { startFakeIdentityProvider, type FakeIdentityProvider } from './support/fakeIdentityProvider';

describe('DataverseTokenProvider against an https identity provider with a private CA', () => {
  let certs: TestCertificates;
  let idp: FakeIdentityProvider;
  const providers: DataverseTokenProvider[] = [];

  const make = (
    overrides: Partial<ConstructorParameters<typeof DataverseTokenProvider>[0]> = {},
  ): DataverseTokenProvider => {
    const p = new DataverseTokenProvider({
      connection: 'east',
      tenantId: idp.tenantId,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      environmentUrl: 'https://contoso.crm.dynamics.com',
      authority: idp.authority,
      caPem: certs.caPem,
      ...overrides,
    });
    providers.push(p);
    return p;
  };

  before(async () => {
    certs = makeTestCertificates();
    idp = await startFakeIdentityProvider(certs);
  });
  after(async () => {
    for (const p of providers) await p.close();
    await idp.close();
  });

  it('derives the scope from the environment URL', () => {
    assert.equal(make().scope, 'https://contoso.crm.dynamics.com/.default');
    assert.equal(
      make({ environmentUrl: 'https://contoso.crm.dynamics.com/' }).scope,
      'https://contoso.crm.dynamics.com/.default',
    );
    assert.equal(
      make({ authority: undefined }).authority,
      `https://login.microsoftonline.com/${idp.tenantId}`,
      'default authority is the public Entra ID tenant',
    );
  });

  it('reuses the cached token, and fetches a new one after invalidate()', async () => {
    idp.setLifetimeSeconds(3600);
    const p = make();
    const before = idp.issued();
    const first = await p.getToken();
    const second = await p.getToken();
    assert.equal(second, first);
    assert.equal(idp.issued() - before, 1);
    p.invalidate();
    const third = await p.getToken();
    assert.notEqual(third, first);
    assert.equal(idp.issued() - before, 2);
    assert.equal(await p.getToken(), third, 'back to the cache once renewed');
    assert.equal(idp.issued() - before, 2);
  });

  it('renews a token that has entered msal’s five-minute renewal window', async () => {
    // 302 s of life leaves ~2 s before the token is inside the 300 s renewal offset.
    idp.setLifetimeSeconds(302);
    const p = make();
    const before = idp.issued();
    const first = await p.getToken();
    assert.equal(await p.getToken(), first);
    assert.equal(idp.issued() - before, 1);
    await new Promise((r) => setTimeout(r, 3200));
    const renewed = await p.getToken();
    assert.notEqual(renewed, first);
    assert.equal(idp.issued() - before, 2);
    idp.setLifetimeSeconds(3600);
  });

  it('reports a wrong secret as DataverseAuthError naming connection and authority, never the secret', async () => {
    idp.echoSecretInErrors = true;
    const wrong = 'wr0ng/secret+with~chars';
    try {
      const p = make({ connection: 'west-warehouse', clientSecret: wrong });
      const err = await p.getToken().then(
        () => assert.fail('expected failure'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DataverseAuthError, `got ${String(err)}`);
      assert.match(err.message, /west-warehouse/);
      assert.ok(err.message.includes(idp.authority), err.message);
      assert.match(err.message, /AADSTS7000215|invalid_client/);
      for (const form of [wrong, encodeURIComponent(wrong), idp.clientSecret]) {
        assert.ok(!err.message.includes(form), `message leaks secret form ${form}: ${err.message}`);
        assert.ok(!JSON.stringify(err).includes(form));
        assert.ok(!String(err.stack).includes(form));
      }
    } finally {
      idp.echoSecretInErrors = false;
    }
  });

  it('trusts the private CA only for the connection configured with it', async () => {
    const untrusting = make({ caPem: undefined, connection: 'no-ca' });
    await assert.rejects(
      untrusting.getToken(),
      (e: unknown) => e instanceof DataverseAuthError && /no-ca/.test(e.message),
    );
  });

  it('rejects bad configuration with a clear error', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['http authority', { authority: 'http://127.0.0.1:1/t' }, /authority .* must use https/],
      ['unparseable authority', { authority: 'not a url' }, /authority "not a url" is not a URL/],
      ['http environment', { environmentUrl: 'http://contoso.crm.dynamics.com' }, /environment URL .* must use https/],
    ];
    for (const [name, o, re] of cases) {
      assert.throws(
        () => make(o),
        (e: unknown) => e instanceof DataverseAuthError && re.test(e.message),
        name,
      );
    }
  });
});
