import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQwcFile } from '../../src/gateway/qbwc/qwcFile';

const cli = join(__dirname, '..', '..', 'src', 'cli', 'main.ts');
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', env: { ...process.env } });

describe('qbsync qwc', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-cli-'));
    writeFileSync(
      join(dir, 'connections.json'),
      JSON.stringify({
        connections: [
          {
            name: 'east',
            companyFileLabel: 'East office',
            qbwc: { userName: 'qbsync-east', passwordHash: 'scrypt$c2FsdA==$aGFzaA==', companyFilePath: '' },
          },
        ],
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a .QWC file the Web Connector accepts, stable across runs', () => {
    const out = join(dir, 'east.qwc');
    const res = run([
      '--data-dir',
      dir,
      'qwc',
      '-c',
      'east',
      '-o',
      out,
      '--gateway-url',
      'https://qb.example.com',
      '--every',
      '15',
    ]);
    assert.equal(res.status, 0, res.stderr);
    const qwc = parseQwcFile(readFileSync(out, 'utf8'));
    assert.equal(qwc.appUrl, 'https://qb.example.com/qbwc');
    assert.equal(qwc.userName, 'qbsync-east');
    assert.equal(qwc.runEveryNMinutes, 15);
    assert.match(qwc.ownerId, /^\{[0-9A-F-]{36}\}$/i);
    const again = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        '--data-dir',
        dir,
        'qwc',
        '-c',
        'east',
        '--gateway-url',
        'https://qb.example.com',
        '--every',
        '15',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(again, readFileSync(out, 'utf8'), 'same OwnerID/FileID every time');
  });

  it('refuses what QBWC would refuse, with a clear message', () => {
    const cases: [string[], RegExp][] = [
      [['qwc', '-c', 'nowhere'], /No connection named "nowhere"\. Known connections: east/],
      [['qwc', '-c', 'east', '--gateway-url', 'http://qb.example.com'], /https/i],
      [['qwc', '-c', 'east', '--every', '0'], /at least 1/],
    ];
    for (const [args, message] of cases) {
      const res = run(['--data-dir', dir, ...args]);
      assert.notEqual(res.status, 0, args.join(' '));
      assert.match(res.stderr, message);
    }
  });
});
