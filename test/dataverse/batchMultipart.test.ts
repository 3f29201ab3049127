import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boundaryOf, decodeBatchResponse, encodeBatch } from '../../src/dataverse/batchMultipart';

const sample = join(__dirname, '..', 'fixtures', 'samples', 'dataverse', 'batch-response-changeset-and-get.txt');

describe('$batch multipart', () => {
  it('decodes the published change-set + GET response (LF line endings, "Name:value" headers)', () => {
    const text = readFileSync(sample, 'utf8');
    const parts = decodeBatchResponse(
      text,
      'multipart/mixed; boundary=batchresponse_c1bd45c1-dd81-470d-b897-e965846aad2f',
    );
    assert.deepEqual(
      parts.map((p) => [p.status, p.contentId, p.inChangeSet]),
      [
        [204, '1', true],
        [204, '2', true],
        [200, undefined, false],
      ],
    );
    assert.equal(
      parts[0]?.headers['odata-entityid'],
      '[Organization URI]/api/data/v9.1/tasks(a59c24f3-fafc-e411-80dd-00155d2a68cb)',
    );
    const body = JSON.parse(parts[2]?.bodyText ?? '') as { value: unknown[] };
    assert.equal(body.value.length, 6);
  });

  it('finds the boundary without a Content-Type header too', () => {
    const text = readFileSync(sample, 'utf8');
    assert.equal(decodeBatchResponse(text, undefined).length, 3);
  });

  it('reads quoted and unquoted boundaries', () => {
    assert.equal(boundaryOf('multipart/mixed; boundary="batch_1"'), 'batch_1');
    assert.equal(boundaryOf('multipart/mixed;boundary=batch_2'), 'batch_2');
    assert.equal(boundaryOf('application/json'), undefined);
  });

  it('encodes a change set before standalone parts, with CRLF and Content-IDs', () => {
    const enc = encodeBatch(
      [
        {
          method: 'POST',
          url: 'https://x/api/data/v9.2/accounts',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
          contentId: '1',
        },
      ],
      [
        {
          method: 'GET',
          url: 'https://x/api/data/v9.2/accounts',
          headers: { Accept: 'application/json' },
          contentId: '2',
        },
      ],
    );
    assert.match(enc.contentType, /^multipart\/mixed; boundary=batch_[0-9a-f-]{36}$/);
    const lines = enc.body.split('\r\n');
    assert.equal(lines[0], `--${enc.boundary}`);
    assert.match(lines[1] ?? '', /^Content-Type: multipart\/mixed; boundary=changeset_/);
    assert.ok(lines.includes('Content-ID: 1'));
    assert.ok(lines.includes('POST https://x/api/data/v9.2/accounts HTTP/1.1'));
    assert.ok(enc.body.indexOf('GET https://x') > enc.body.indexOf('POST https://x'));
    assert.ok(enc.body.endsWith(`--${enc.boundary}--\r\n`));
    assert.ok(!/[^\r]\n/.test(enc.body), 'only CRLF line breaks');
  });

  it('reports malformed responses clearly', () => {
    assert.throws(() => decodeBatchResponse('no boundary here', undefined), /HTTP status line|no multipart boundary/);
    assert.throws(
      () =>
        decodeBatchResponse(
          '--b\r\nContent-Type: application/http\r\n\r\nnot http\r\n--b--',
          'multipart/mixed; boundary=b',
        ),
      /without an HTTP status line/,
    );
  });
});
