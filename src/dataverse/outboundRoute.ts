import { Agent, EnvHttpProxyAgent, type Dispatcher } from 'undici';

/**
 * How the connector's requests to Microsoft leave the host: straight, or through the outbound proxy that many
 * corporate networks require. Token requests (msal) and Web API calls take the same route, so a proxy that lets one
 * through lets the other.
 *
 * The proxy is read from the conventional variables `HTTPS_PROXY` / `https_proxy` (and `HTTP_PROXY`), with hosts listed
 * in `NO_PROXY` / `no_proxy` reached directly. A proxy needing a login takes it in its URL
 * (`http://user:password@proxy:3128`); undici sends it as `Proxy-Authorization`, and it appears nowhere else.
 */
export interface OutboundRouteOptions {
  /** Extra CA (PEM) trusted for the far end (a test identity provider, a TLS-inspecting proxy's re-signed certificates). */
  caPem?: string;
  /** Connections kept per origin. */
  connections?: number;
  /** The environment the proxy variables are read from; the process's by default. */
  env?: NodeJS.ProcessEnv;
}

export interface OutboundRoute {
  dispatcher: Dispatcher;
  /** The proxy in use, without its credentials, for logs and `qbsync check`; undefined when requests go straight. */
  proxy: string | undefined;
}

export function outboundRoute(options: OutboundRouteOptions = {}): OutboundRoute {
  const env = options.env ?? process.env;
  const tls = options.caPem ? { ca: options.caPem } : {};
  const connections = options.connections ?? 64;
  const httpsProxy = env.https_proxy ?? env.HTTPS_PROXY ?? env.http_proxy ?? env.HTTP_PROXY;
  if (!httpsProxy) return { dispatcher: new Agent({ connect: tls, connections }), proxy: undefined };
  const proxyUrl = parseProxyUrl(httpsProxy);
  const noProxy = env.no_proxy ?? env.NO_PROXY;
  return {
    // `connect` holds the CA for direct (NO_PROXY) connections, `requestTls` for connections tunnelled through the
    // proxy: the far end's certificate is checked against it either way, the proxy never sees inside the tunnel.
    dispatcher: new EnvHttpProxyAgent({
      httpProxy: proxyUrl.href,
      httpsProxy: proxyUrl.href,
      ...(noProxy !== undefined ? { noProxy } : {}),
      connect: tls,
      requestTls: tls,
      connections,
    }),
    proxy: withoutCredentials(proxyUrl),
  };
}

function parseProxyUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value may carry a password: name the variable's problem, never echo it.
    throw new Error('HTTPS_PROXY is not a URL; expected http://host:port or http://user:password@host:port');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`HTTPS_PROXY must be an http:// or https:// URL, not ${url.protocol}`);
  }
  return url;
}

function withoutCredentials(url: URL): string {
  return `${url.protocol}//${url.host}`;
}
