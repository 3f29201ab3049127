import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runtime } from '../../src/config/runtime';
import { DEFAULT_WORKER_METRICS_PORT } from '../../src/observability/metricsServer';
import { DEFAULT_MAX_RESPONSE_BODY_BYTES } from '../../src/gateway/qbwc/soapEndpoint';
import { defaultMaxWebhookBodyBytes } from '../../src/gateway/webhooks/dataverseWebhook';
import { searchAttributeRegistrations } from '../../src/workflows/searchAttributes';

/**
 * No Docker engine runs in CI, so the production stack is checked as files: the compose file against the code it runs
 * (environment variables the code reads, entry points the build produces), the proxy against the gateway's port, and
 * the Dockerfile against package.json.
 */

const root = resolve(__dirname, '../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface HealthCheck {
  test: string[] | string;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  configs?: { source: string; target: string }[];
  healthcheck?: HealthCheck;
  restart?: string;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { file: string }>;
}

const compose = parse(read('docker-compose.yml')) as ComposeFile;
const services = compose.services;
const packageJson = JSON.parse(read('package.json')) as { version: string; scripts: Record<string, string> };

function service(name: string): Service {
  const found = services[name];
  assert.ok(found, `docker-compose.yml has no service "${name}"`);
  return found;
}

function environmentOf(name: string): Record<string, string> {
  const environment = service(name).environment;
  assert.ok(environment && !Array.isArray(environment), `${name}: environment must be a mapping`);
  return environment;
}

/** Compose interpolation `${VAR:?message}` → `<VAR>`, so values can be compared structurally. */
function uninterpolated(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)[^}]*\}/g, '<$1>');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Environment variable names the code reads: `process.env.X`, `env.X` / `env['X']` on a ProcessEnv, and names held in
 * constants of files that take a ProcessEnv (e.g. `CODEC_TOKEN_ENV = 'QBSYNC_CODEC_TOKEN'`).
 */
function environmentNamesReadBy(files: string[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    const text = read(file);
    for (const m of text.matchAll(/\b(?:process\.)?env\.([A-Z][A-Z0-9_]*)\b/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g)) names.add(m[1]!);
    if (/process\.env|ProcessEnv/.test(text)) {
      for (const m of text.matchAll(/['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"]/g)) names.add(m[1]!);
    }
  }
  return names;
}

const namesReadByCode = environmentNamesReadBy(sourceFiles('src'));

function readEnvFile(path: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of read(path).split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) entries.set(m[1]!, m[2]!);
  }
  return entries;
}

interface CaddyNode {
  tokens: string[];
  children: CaddyNode[];
}

/** Enough of the Caddyfile grammar for our file: one directive per line, blocks opened by a trailing `{`. */
function parseCaddyfile(text: string): CaddyNode[] {
  const top: CaddyNode = { tokens: [], children: [] };
  const stack = [top];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    if (line === '}') {
      stack.pop();
      assert.ok(stack.length > 0, 'Caddyfile: unbalanced "}"');
      continue;
    }
    const opens = line.endsWith('{');
    const node: CaddyNode = { tokens: (opens ? line.slice(0, -1) : line).trim().split(/\s+/), children: [] };
    stack[stack.length - 1]!.children.push(node);
    if (opens) stack.push(node);
  }
  assert.equal(stack.length, 1, 'Caddyfile: unclosed block');
  return top.children;
}

function site(nodes: CaddyNode[], address: string): CaddyNode {
  const found = nodes.find((n) => n.tokens[0] === address);
  assert.ok(found, `Caddyfile has no site ${address}`);
  return found;
}

/** Every `reverse_proxy` upstream inside a node, however deeply nested. */
function upstreams(node: CaddyNode): string[] {
  const own = node.tokens[0] === 'reverse_proxy' ? node.tokens.slice(1) : [];
  return [...own, ...node.children.flatMap(upstreams)];
}

/** The upstreams a `handle` with exactly these matcher tokens sends to. */
function handledBy(siteNode: CaddyNode, matcher: string[]): string[] {
  const handle = siteNode.children.find(
    (n) => n.tokens[0] === 'handle' && n.tokens.slice(1).join(' ') === matcher.join(' '),
  );
  assert.ok(handle, `site ${siteNode.tokens[0]} has no "handle ${matcher.join(' ')}"`);
  return upstreams(handle);
}

const caddy = parseCaddyfile(read('deploy/Caddyfile'));
const gatewayPort = environmentOf('gateway').GATEWAY_PORT;

describe('docker-compose.yml', () => {
  it('runs the whole stack: database, schema job, Temporal, its UI, worker, gateway, proxy and the search-attribute job', () => {
    for (const name of [
      'postgresql',
      'temporal-schema',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
      'gateway',
      'caddy',
    ]) {
      service(name);
    }
    assert.deepEqual(service('temporal-admin-tools').profiles, ['tools'], 'the CLI shell starts only on request');
  });

  it('pins every image to a tag, never latest', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image, `${name} has no image`);
      const m = /^([a-z0-9./_-]+):([A-Za-z0-9._-]+)$/.exec(s.image);
      assert.ok(m, `${name}: image ${s.image} carries no tag`);
      assert.notEqual(m[2], 'latest', `${name}: image ${s.image} is not pinned`);
    }
  });

  it('builds worker and gateway from the project Dockerfile as one image tagged with the package version', () => {
    const worker = service('worker');
    assert.deepEqual(worker.build, { context: '.', dockerfile: 'Dockerfile' });
    assert.equal(worker.image, `qb-d365-connector:${packageJson.version}`);
    assert.equal(service('gateway').image, worker.image);
  });

  it('starts the entry points the TypeScript build produces', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    const { rootDir, outDir } = build.compilerOptions;
    assert.deepEqual(service('worker').command, ['node', 'lib/worker.js']);
    assert.deepEqual(service('gateway').command, ['node', 'lib/gateway/main.js']);
    for (const name of ['worker', 'gateway']) {
      const script = service(name).command![1]!;
      assert.ok(script.startsWith(`${outDir}/`), `${name}: ${script} is not under ${outDir}/`);
      const source = join(rootDir, relative(outDir, script)).replace(/\.js$/, '.ts');
      assert.ok(existsSync(join(root, source)), `${name}: ${script} would come from ${source}, which does not exist`);
      assert.match(read(source), /require\.main === module/, `${source} does not start itself when run`);
    }
  });

  it('publishes only the proxy to the world, and Temporal on loopback for the operator CLI', () => {
    assert.deepEqual(
      service('caddy').ports!.map((p) => p.split(':').at(-1)),
      ['80', '443'],
    );
    assert.deepEqual(service('temporal').ports, ['127.0.0.1:7233:7233']);
    for (const name of ['postgresql', 'temporal-ui', 'worker', 'gateway', 'temporal-setup']) {
      assert.equal(service(name).ports, undefined, `${name} must not publish a port; it is reached through the proxy`);
    }
    assert.deepEqual(service('gateway').expose, [gatewayPort]);
  });

  it('gives worker and gateway only environment variables the code reads', () => {
    for (const name of ['worker', 'gateway']) {
      for (const key of Object.keys(environmentOf(name))) {
        assert.ok(namesReadByCode.has(key), `${name}: ${key} is set but nothing in src/ reads it`);
      }
    }
    // The scan must find the names it is meant to, or the check above proves nothing.
    for (const known of ['TEMPORAL_ADDRESS', 'GATEWAY_PORT', 'CONNECTOR_DATA_DIR', 'QBSYNC_CONFIG', 'LOG_LEVEL']) {
      assert.ok(namesReadByCode.has(known), `the scan of src/ missed ${known}`);
    }
  });

  it('points worker, gateway, UI and setup job at the Temporal service, namespace and task queue the code uses', () => {
    const temporalPort = service('temporal').ports![0]!.split(':').at(-1);
    for (const name of ['worker', 'gateway', 'temporal-ui', 'temporal-setup', 'temporal-admin-tools']) {
      assert.equal(environmentOf(name).TEMPORAL_ADDRESS, `temporal:${temporalPort}`, name);
    }
    for (const name of ['worker', 'gateway']) {
      const env = environmentOf(name);
      assert.equal(env.TEMPORAL_TASK_QUEUE, runtime.taskQueue, `${name}: task queue`);
      assert.equal(env.TEMPORAL_NAMESPACE, environmentOf('temporal-setup').TEMPORAL_NAMESPACE, `${name}: namespace`);
      assert.equal(env.CONNECTOR_DATA_DIR, '/data');
      assert.ok(service(name).volumes!.includes('connector-data:/data'), `${name}: data volume`);
      assert.deepEqual(service(name).configs, [{ source: 'qbsync', target: env.QBSYNC_CONFIG }]);
      assert.deepEqual(service(name).env_file, ['deploy/connector.env']);
    }
    assert.equal(environmentOf('temporal-setup').AUDIT_RETENTION, '720h', 'the audit trail is kept 30 days');
  });

  it('agrees with the example configuration file on Temporal address, task queue and gateway port', () => {
    const example = parse(read('config/qbsync.example.yaml')) as {
      temporal: { address: string; taskQueue: string };
      gateway: { port: number };
    };
    assert.equal(example.temporal.address, environmentOf('worker').TEMPORAL_ADDRESS);
    assert.equal(example.temporal.taskQueue, environmentOf('worker').TEMPORAL_TASK_QUEUE);
    assert.equal(String(example.gateway.port), gatewayPort);
  });

  it('runs Temporal on PostgreSQL with the postgres12 driver and the project dynamic config', () => {
    const env = { ...Object.fromEntries(readEnvFile('deploy/temporal/server.env')), ...environmentOf('temporal') };
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.equal(env.POSTGRES_USER, environmentOf('postgresql').POSTGRES_USER);
    assert.equal(uninterpolated(env.POSTGRES_PWD!), uninterpolated(environmentOf('postgresql').POSTGRES_PASSWORD!));
    const mount = service('temporal').volumes!.find((v) => v.includes('/etc/temporal/config/dynamicconfig'));
    assert.ok(mount, 'dynamic config is not mounted');
    const hostDir = mount.split(':')[0]!;
    const file = env.DYNAMIC_CONFIG_FILE_PATH!.replace(/^(\/etc\/temporal\/)?config\/dynamicconfig\//, '');
    const dynamic = parse(read(join(hostDir, file))) as Record<string, { value: unknown }[]>;
    // The gateway drives QBWC sessions with Updates and opens them with update-with-start.
    for (const key of [
      'frontend.enableUpdateWorkflowExecution',
      'frontend.enableUpdateWorkflowExecutionAsyncAccepted',
      'frontend.enableExecuteMultiOperation',
    ]) {
      assert.deepEqual(dynamic[key], [{ value: true }], key);
    }
  });

  it('orders start-up with conditions: healthy database, finished setup, healthy gateway', () => {
    const conditions = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
    for (const [name, s] of Object.entries(services)) {
      if (!s.depends_on) continue;
      assert.ok(!Array.isArray(s.depends_on), `${name}: depends_on must name a condition for each service`);
      for (const [dependency, { condition }] of Object.entries(s.depends_on)) {
        const target = service(dependency);
        assert.ok(conditions.has(condition), `${name} → ${dependency}: unknown condition ${condition}`);
        if (condition === 'service_healthy') assert.ok(target.healthcheck, `${dependency} has no healthcheck`);
        if (condition === 'service_completed_successfully') assert.equal(target.restart, 'no', dependency);
      }
    }
    const dependsOn = (name: string): Record<string, { condition: string }> =>
      service(name).depends_on as Record<string, { condition: string }>;
    assert.equal(dependsOn('temporal').postgresql?.condition, 'service_healthy');
    assert.equal(dependsOn('temporal')['temporal-schema']?.condition, 'service_completed_successfully');
    for (const name of ['worker', 'gateway', 'temporal-ui']) {
      assert.equal(dependsOn(name)['temporal-setup']?.condition, 'service_completed_successfully', name);
    }
    assert.equal(dependsOn('caddy').gateway?.condition, 'service_healthy');
  });

  it('checks gateway and worker readiness (Temporal reachable, task queue polled) on the ports they serve it', () => {
    const command = (name: string): string => {
      const test = service(name).healthcheck?.test;
      assert.ok(test, `${name} has no healthcheck`);
      return Array.isArray(test) ? test.join(' ') : test;
    };
    assert.ok(command('gateway').includes(`http://127.0.0.1:${gatewayPort}/readyz`), command('gateway'));
    assert.match(read('src/gateway/app.ts'), /app\.get\('\/readyz'/);
    assert.match(read('src/gateway/main.ts'), /ready: temporalReachable\(client\)/);
    // The worker serves /readyz next to /metrics, on the default port unless its environment moves it.
    assert.equal(environmentOf('worker').WORKER_METRICS_PORT, undefined);
    assert.ok(command('worker').includes(`http://127.0.0.1:${DEFAULT_WORKER_METRICS_PORT}/readyz`), command('worker'));
    assert.match(read('src/worker.ts'), /ready: taskQueuePolled\(/);
  });

  it('declares every named volume and config, and every mounted file exists or has an example to copy', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    const examples: Record<string, string> = {
      'deploy/qbsync.yaml': 'config/qbsync.example.yaml',
      'deploy/connector.env': 'deploy/connector.env.example',
    };
    const mustExist = (path: string, what: string): void => {
      const clean = path.replace(/^\.\//, '');
      const candidate = existsSync(join(root, clean)) ? clean : examples[clean];
      assert.ok(candidate && existsSync(join(root, candidate)), `${what}: ${path} does not exist and has no example`);
    };
    for (const [name, s] of Object.entries(services)) {
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/')) mustExist(source, `${name} volume`);
        else assert.ok(declared.has(source), `${name}: volume ${source} is not declared`);
      }
      for (const file of s.env_file ?? []) mustExist(file, `${name} env_file`);
      for (const config of s.configs ?? []) {
        const declaredConfig = compose.configs?.[config.source];
        assert.ok(declaredConfig, `${name}: config ${config.source} is not declared`);
        mustExist(declaredConfig.file, `config ${config.source}`);
      }
    }
    assert.ok(service('postgresql').volumes!.some((v) => v.endsWith(':/var/lib/postgresql/data')));
  });

  it('lists in the secrets example only variables the code reads or the example configuration references', () => {
    const referenced = new Set(
      [...read('config/qbsync.example.yaml').matchAll(/\benv:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!),
    );
    const names = [...readEnvFile('deploy/connector.env.example').keys()];
    assert.ok(names.includes('QBSYNC_PAYLOAD_KEYS'), 'worker and gateway need the payload keys');
    for (const name of names) {
      assert.ok(namesReadByCode.has(name) || referenced.has(name), `connector.env.example: nothing uses ${name}`);
    }
    for (const name of referenced) assert.ok(names.includes(name), `connector.env.example lacks ${name}`);
  });

  it('keeps per-installation files out of git and out of the image build context', () => {
    const ignoredByGit = read('deploy/.gitignore').split('\n');
    const ignoredByDocker = read('.dockerignore').split('\n');
    for (const file of ['compose.env', 'connector.env', 'qbsync.yaml']) {
      assert.ok(ignoredByGit.includes(file), `deploy/.gitignore lacks ${file}`);
      assert.ok(ignoredByDocker.includes(`deploy/${file}`), `.dockerignore lacks deploy/${file}`);
    }
  });
});

describe('TLS proxy (deploy/Caddyfile)', () => {
  const publicSite = site(caddy, '{$QBSYNC_PUBLIC_HOST}');
  const uiSite = site(caddy, '{$QBSYNC_UI_HOST}');

  it("forwards the Web Connector's and Dataverse's paths to the gateway's port, and nothing else", () => {
    const matcher = publicSite.children.find((n) => n.tokens[0] === '@connector');
    assert.ok(matcher, 'public site has no @connector matcher');
    const paths = matcher.tokens.slice(2);
    for (const path of ['/qbwc', '/webhooks/dataverse', '/webhooks/dataverse/*', '/healthz']) {
      assert.ok(paths.includes(path), `public site does not route ${path}`);
    }
    assert.ok(!paths.some((p) => p.startsWith('/codec') || p.startsWith('/metrics')), 'codec or metrics made public');
    assert.deepEqual(handledBy(publicSite, ['@connector']), [`gateway:${gatewayPort}`]);
    assert.deepEqual(upstreams(publicSite), [`gateway:${gatewayPort}`]);
    assert.match(read('src/gateway/webhooks/dataverseWebhook.ts'), /dataverseWebhookPath = '\/webhooks\/dataverse'/);
  });

  it("refuses request bodies over the gateway's own limits before they reach it", () => {
    const connector = publicSite.children.find((n) => n.tokens[0] === 'handle' && n.tokens[1] === '@connector')!;
    const bytes = (size: string): number => {
      const m = /^(\d+)(KiB|MiB)?$/.exec(size);
      assert.ok(m, `max_size ${size}: write it in bytes, KiB or MiB`);
      return Number(m[1]) * (m[2] === 'MiB' ? 1024 * 1024 : m[2] === 'KiB' ? 1024 : 1);
    };
    const limits = Object.fromEntries(
      connector.children
        .filter((n) => n.tokens[0] === 'request_body')
        .map((n) => [n.tokens[1], bytes(n.children.find((c) => c.tokens[0] === 'max_size')?.tokens[1] ?? '')]),
    );
    assert.deepEqual(limits, {
      '/qbwc*': DEFAULT_MAX_RESPONSE_BODY_BYTES,
      '/webhooks/*': defaultMaxWebhookBodyBytes,
      '/healthz': 0,
    });
  });

  it('gets the host names and login from the caddy service environment', () => {
    const env = environmentOf('caddy');
    for (const name of ['QBSYNC_PUBLIC_HOST', 'QBSYNC_UI_HOST', 'ACME_EMAIL', 'UI_USER', 'UI_PASSWORD_HASH']) {
      assert.ok(env[name], `caddy: ${name} is not passed in`);
      assert.ok(read('deploy/Caddyfile').includes(`{$${name}}`), `Caddyfile does not use ${name}`);
    }
    assert.ok(service('caddy').volumes!.includes('./deploy/Caddyfile:/etc/caddy/Caddyfile:ro'));
  });

  it("puts the UI behind a login and routes the UI's codec endpoint to the gateway on the same origin", () => {
    assert.ok(uiSite.children.some((n) => n.tokens[0] === 'basic_auth'));
    assert.deepEqual(handledBy(uiSite, ['/codec/ui/*']), [`gateway:${gatewayPort}`]);
    const uiPort = readEnvFile('deploy/temporal-ui.env').get('TEMPORAL_UI_PORT');
    assert.deepEqual(handledBy(uiSite, []), [`temporal-ui:${uiPort}`]);

    const ui = environmentOf('temporal-ui');
    const endpoint = new URL(uninterpolated(ui.TEMPORAL_CODEC_ENDPOINT!).replace('<QBSYNC_UI_HOST>', 'ui.test'));
    assert.equal(endpoint.protocol, 'https:');
    assert.equal(endpoint.pathname, '/codec/ui/%3CQBSYNC_CODEC_UI_TOKEN%3E');
    assert.equal(uninterpolated(ui.TEMPORAL_CORS_ORIGINS!), 'https://<QBSYNC_UI_HOST>');
    const gateway = environmentOf('gateway');
    assert.equal(uninterpolated(gateway.QBSYNC_UI_ORIGIN!), uninterpolated(ui.TEMPORAL_CORS_ORIGINS!));
    assert.equal(uninterpolated(gateway.QBSYNC_CODEC_UI_TOKEN!), '<QBSYNC_CODEC_UI_TOKEN>');
    assert.match(read('src/gateway/codec/codecRouter.ts'), /`\/codec\/ui\/:token\/\$\{direction\}`/);
  });
});

describe('one truth for production: docker-compose.yml, npm run cluster and docs/deployment.md', () => {
  const serverVersion = /TEMPORAL_SERVER_VERSION = '([^']+)'/.exec(read('scripts/temporal-server.mjs'))?.[1];

  it('run the Temporal server version that npm run cluster builds, with the schema tool of that version', () => {
    assert.ok(serverVersion, 'scripts/temporal-server.mjs names no version');
    assert.equal(service('temporal').image, `temporalio/server:${serverVersion}`);
    for (const name of ['temporal-schema', 'temporal-setup', 'temporal-admin-tools']) {
      assert.equal(service(name).image, `temporalio/admin-tools:${serverVersion}`, name);
    }
    const docs = read('docs/deployment.md');
    assert.ok(docs.includes(`temporalio/server:${serverVersion}`), 'docs/deployment.md names another server image');
  });

  it('configure the server from the same settings file, adding only host-specific values', async () => {
    const shared = Object.fromEntries(readEnvFile('deploy/temporal/server.env'));
    for (const name of ['temporal', 'temporal-schema']) {
      assert.deepEqual(service(name).env_file, ['deploy/temporal/server.env'], name);
      // What compose adds is where things are, never a different setting.
      for (const key of Object.keys(environmentOf(name))) assert.ok(!(key in shared), `${name} overrides ${key}`);
    }
    const cluster = await import('../../scripts/temporal-cluster.mjs');
    const layout = { address: '127.0.0.1:17233', basePort: 17233 };
    const processEnv = cluster.serverEnvironment({
      process: { name: 'history-1', service: 'history', grpcPort: 1, membershipPort: 2, metricsPort: 3 },
      layout: {
        ...layout,
        processes: [
          { name: 'frontend-1', service: 'frontend', grpcPort: 4, membershipPort: 5, httpPort: 6, metricsPort: 7 },
        ],
      },
      database: {
        host: '127.0.0.1',
        port: 5432,
        user: 'postgres',
        password: '',
        name: 'temporal_qbsync',
        visibilityName: 'temporal_qbsync_visibility',
      },
    });
    const hostSpecific = new Set(['DBNAME', 'VISIBILITY_DBNAME', 'DYNAMIC_CONFIG_FILE_PATH']);
    for (const [key, value] of Object.entries(shared)) {
      if (!hostSpecific.has(key)) assert.equal(processEnv[key], value, `npm run cluster sets ${key} differently`);
    }
    // The same dynamic configuration file: compose mounts deploy/temporal/dynamicconfig where the setting points.
    assert.equal(
      processEnv.DYNAMIC_CONFIG_FILE_PATH,
      join(root, 'deploy/temporal/dynamicconfig', shared.DYNAMIC_CONFIG_FILE_PATH!.split('/').at(-1)!),
    );
  });

  it('set up the schema and the namespace with the same scripts', () => {
    const schemaJob = service('temporal-schema');
    assert.deepEqual(schemaJob.volumes, ['./deploy/temporal/setup-schema.sh:/deploy/setup-schema.sh:ro']);
    assert.deepEqual(schemaJob.entrypoint, ['/bin/sh', '/deploy/setup-schema.sh']);
    const clusterScript = read('scripts/temporal-cluster.mjs');
    assert.match(clusterScript, /join\(deployDir, 'setup-schema\.sh'\)/);
    assert.match(clusterScript, /join\(deployDir, 'register-search-attributes\.sh'\)/);
    const setupJob = service('temporal-setup');
    assert.ok(setupJob.volumes!.some((v) => v.startsWith('./deploy/temporal/register-search-attributes.sh:')));
    const schema = read('deploy/temporal/setup-schema.sh');
    assert.match(schema, /update-schema --schema-name "postgresql\/v12\/\$schema"/);
    assert.match(schema, /migrate "\$\{DBNAME:-temporal\}" temporal/);
    assert.match(schema, /migrate "\$\{VISIBILITY_DBNAME:-temporal_visibility\}" visibility/);
  });
});

describe('search-attribute registration job', () => {
  it('registers exactly the connector search attributes, each with its type', () => {
    const job = service('temporal-setup');
    const mount = job.volumes!.find((v) => v.endsWith('.sh:ro'));
    assert.ok(mount);
    const [hostPath, containerPath] = mount.split(':') as [string, string];
    assert.deepEqual(job.entrypoint, ['/bin/sh', containerPath]);
    const script = read(hostPath);
    const loop = /for attribute in ([A-Za-z= ]+); do/.exec(script);
    assert.ok(loop, 'no loop over attribute names and types');
    assert.deepEqual(
      loop[1]!.trim().split(/\s+/).sort(),
      Object.entries(searchAttributeRegistrations)
        .map(([name, type]) => `${name}=${type}`)
        .sort(),
    );
    assert.match(
      script,
      /temporal operator search-attribute create --namespace "\$namespace" --name "\$name" --type "\$type"/,
    );
    assert.match(script, /temporal operator namespace update --namespace "\$namespace" --retention "\$retention"/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .split('\n')
    .filter((line) => line.trim() && !line.trim().startsWith('#'))
    .map((line) => line.trim());
  const stages = instructions.filter((line) => line.startsWith('FROM '));
  const runtimeStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));

  it('builds in one stage and runs from a second, on a pinned glibc Node image', () => {
    assert.ok(stages.length >= 2, 'not multi-stage');
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    assert.ok(nodeImage, 'no pinned NODE_IMAGE');
    assert.match(nodeImage, /^node:\d+\.\d+\.\d+-bookworm-slim$/);
    const engine = /(\d+)\.(\d+)\.(\d+)/.exec(
      (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node,
    )!;
    const [major, minor, patch] = /(\d+)\.(\d+)\.(\d+)/.exec(nodeImage)!.slice(1).map(Number) as [
      number,
      number,
      number,
    ];
    const wanted = engine.slice(1).map(Number) as [number, number, number];
    assert.ok(
      major > wanted[0] || (major === wanted[0] && (minor > wanted[1] || (minor === wanted[1] && patch >= wanted[2]))),
      `${nodeImage} is older than engines.node ${engine[0]}`,
    );
  });

  it('installs from the lock file, builds with the package script and prunes dev dependencies', () => {
    assert.ok(instructions.includes('COPY package.json package-lock.json ./'));
    assert.ok(instructions.some((l) => /^RUN npm ci\b/.test(l)));
    // Compiled, then the workflows bundled for lib/worker.js (test/temporal/workflowBundle.test.ts).
    assert.match(
      packageJson.scripts.build ?? '',
      /^tsc -p tsconfig\.build\.json && node lib\/temporal\/workflowBundle\.js$/,
    );
    const buildLine = instructions.find((l) => l.includes('npm run build'));
    assert.ok(buildLine, 'does not run npm run build');
    assert.match(buildLine, /npm prune --omit=dev/);
    // What the build reads must be in the context before it runs.
    const copied = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from')).join(' ');
    const extendsFile = (JSON.parse(read('tsconfig.build.json')) as { extends: string }).extends.replace(/^\.\//, '');
    for (const needed of ['tsconfig.build.json', extendsFile, 'src']) {
      assert.ok(copied.includes(needed), `the build needs ${needed} but it is not copied`);
    }
  });

  it('runs as the unprivileged node user in production mode, the worker by default', () => {
    assert.ok(runtimeStage.includes('ENV NODE_ENV=production'));
    assert.ok(runtimeStage.includes('USER node'));
    assert.ok(!runtimeStage.some((l) => l.startsWith('USER root')));
    for (const part of ['node_modules', 'lib']) {
      assert.ok(
        runtimeStage.some((l) => l.startsWith('COPY --from=build') && l.includes(`/app/${part}`)),
        part,
      );
    }
    assert.equal(runtimeStage.at(-1), 'CMD ["node", "lib/worker.js"]');
    for (const line of runtimeStage.filter((l) => l.startsWith('ENV '))) {
      const name = line.slice(4).split('=')[0]!;
      assert.ok(name === 'NODE_ENV' || namesReadByCode.has(name), `ENV ${name} is read by nothing in src/`);
    }
  });

  it('keeps dependencies, build output, data and git out of the build context, but not what the build copies', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const path of ['.git', 'node_modules', 'lib', '.data', '.tools']) assert.ok(ignored.includes(path), path);
    for (const path of ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(!ignored.some((pattern) => pattern === path || pattern === `${path}/`), `${path} is ignored`);
    }
  });
});
