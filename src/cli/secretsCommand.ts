import { Command } from 'commander';
import { resolve } from 'node:path';
import { SecretStore, secretStorePath } from '../config/secrets';

export interface SecretsCommandIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Whether standard output is a terminal, where a revealed value stays on screen and in the scrollback. */
  stdoutIsTerminal: () => boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

const processIo: SecretsCommandIo = {
  stdin: process.stdin,
  stdoutIsTerminal: () => process.stdout.isTTY === true,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `qbsync secrets`: the value of `set` comes from standard input only, because command-line arguments are visible to
 * every local user in `ps` and end up in shell history.
 */
export function secretsCommand(dataDir: () => string, io: SecretsCommandIo = processIo): Command {
  const secrets = new Command('secrets').description(
    'Manage the encrypted secret store (<data-dir>/secrets.json) that config refers to as secret:<name>.',
  );

  secrets
    .command('set')
    .description('Store a secret read from standard input (one trailing newline is dropped).')
    .argument('<name>', 'secret name, e.g. dataverse-client-secret')
    .addHelpText('after', '\nExample:\n  qbsync secrets set dataverse-client-secret < client-secret.txt')
    .action(async (name: string) => {
      if (io.stdin.isTTY) io.err('Type the secret, then press Ctrl-D (it is read from standard input).');
      const value = (await readAll(io.stdin)).replace(/\r?\n$/, '');
      const store = SecretStore.open(resolve(dataDir()));
      const existed = store.has(name);
      store.set(name, value);
      io.out(`${existed ? 'Updated' : 'Stored'} secret "${name}" in ${store.path}.`);
    });

  secrets
    .command('get')
    .description(
      "Print one secret's value on standard output, e.g. a sandbox credential for your own Web Connector or script.",
    )
    .argument('<name>', 'secret name, as `qbsync secrets list` shows it')
    .addHelpText(
      'after',
      "\nExamples:\n  qbsync secrets get qbwc-password-east          # the sandbox east office's Web Connector password\n" +
        '  DV_SECRET="$(qbsync secrets get dataverse-client-secret)"',
    )
    .action((name: string) => {
      const store = SecretStore.open(resolve(dataDir()));
      const value = store.get(name);
      if (value === undefined) {
        const known = store.list().map((s) => s.name);
        throw new Error(
          `No secret named "${name}" in ${store.path}. ${known.length ? `Known: ${known.join(', ')}.` : 'The store is empty.'}`,
        );
      }
      // Piped into a variable or a file the value goes where it was asked to; on a terminal it stays in the scrollback.
      if (io.stdoutIsTerminal()) {
        io.err(`Warning: the value of "${name}" is shown below in clear; clear the screen once you have copied it.`);
      }
      io.out(value);
    });

  secrets
    .command('list')
    .description('List secret names and when each last changed (never the values).')
    .action(() => {
      const dir = resolve(dataDir());
      const store = SecretStore.open(dir);
      const listing = store.list();
      if (listing.length === 0) io.out(`No secrets in ${secretStorePath(dir)}.`);
      for (const { name, changedAt } of listing) io.out(`${name}\t${changedAt}`);
    });

  secrets
    .command('rotate-key')
    .description('Re-encrypt every secret under a new key file key; nothing is written to disk in clear.')
    .action(() => {
      const store = SecretStore.open(resolve(dataDir()));
      const { rotated } = store.rotateKey();
      io.out(`Re-encrypted ${rotated} secret${rotated === 1 ? '' : 's'} under a new key.`);
    });

  return secrets;
}
