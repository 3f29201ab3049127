// The real Temporal server and its SQL schema tool, built once from Go modules into .tools/. `npm run cluster` and the
// cluster tests run them on PostgreSQL; docker-compose.yml runs the same version as images (test/deploy keeps the two
// in step).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installGoTools, toolsBin } from './go-tools.mjs';

export const TEMPORAL_SERVER_VERSION = '1.32.2';
// The server module's go.mod asks for a newer Go than some machines carry; the go command fetches this toolchain
// from the module proxy when the installed one is older.
const GO_TOOLCHAIN = 'go1.27.3';
const serverDir = join(toolsBin, '..', `temporal-server-${TEMPORAL_SERVER_VERSION}`);

/** `{ server, sqlTool }`: paths of the built binaries, building them first if needed; throws naming how to get them. */
export function ensureTemporalServer(log = (m) => console.error(m)) {
  const server = process.env.TEMPORAL_SERVER_BIN ?? join(serverDir, 'server');
  const sqlTool = process.env.TEMPORAL_SQL_TOOL ?? join(serverDir, 'sql');
  if (existsSync(server) && existsSync(sqlTool)) return { server, sqlTool };
  const module = `go.temporal.io/server`;
  const built = installGoTools({
    what: `the Temporal server v${TEMPORAL_SERVER_VERSION} and its SQL schema tool`,
    packages: [
      `${module}/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
      `${module}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
    ],
    binaries: ['server', 'sql'],
    dir: serverDir,
    toolchain: process.env.GOTOOLCHAIN ?? GO_TOOLCHAIN,
    log,
  });
  if (built) return { server: join(serverDir, 'server'), sqlTool: join(serverDir, 'sql') };
  throw new Error(
    [
      `The Temporal server v${TEMPORAL_SERVER_VERSION} is not built, and it could not be built.`,
      'Install Go (any recent version) with access to a Go module proxy; this project then builds it itself with:',
      `  GOTOOLCHAIN=${GO_TOOLCHAIN} CGO_ENABLED=0 GOBIN=${serverDir} go install ${module}/cmd/server@v${TEMPORAL_SERVER_VERSION} ${module}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
      'or point TEMPORAL_SERVER_BIN and TEMPORAL_SQL_TOOL at binaries of that version.',
    ].join('\n'),
  );
}

// `node scripts/temporal-server.mjs`: builds them if needed and prints their paths (.ci/run builds them this way
// while npm test runs).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const built = ensureTemporalServer((m) => console.log(`[temporal-server] ${m}`));
    console.log(`${built.server}\n${built.sqlTool}`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
