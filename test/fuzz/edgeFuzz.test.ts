import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QbxmlSyntaxError } from '../../src/qbxml/errors';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import { runEdgeFuzz } from './edgeFuzz';

/** The short run of `npm run fuzz`: the same targets and properties, few runs, a fixed seed so a failure reproduces. */
describe('fuzzing the public edge (short run)', () => {
  it('answers every mutated SOAP call, qbXML response, webhook and codec request without crash, 5xx or queued work', async () => {
    const report = await runEdgeFuzz({ runs: 150, seed: 20261204 });
    assert.deepEqual(
      report.targets.map((t) => [t.target, t.runs]),
      [
        ['qbwc-soap-endpoint', 150],
        ['qbxml-response-parser', 150],
        ['dataverse-webhook', 150],
        ['codec-endpoint', 150],
      ],
    );
    // Slowness is measured by the long run (`npm run fuzz`), whose figures go to a file; on a loaded test machine a
    // time limit here would fail for the machine's sake.
    assert.deepEqual(
      report.findings.filter((f) => f.kind !== 'slow'),
      [],
    );
  });

  it('reads a QBXML with an unclosed XML declaration as a syntax error, not a crash (found by fuzzing)', () => {
    const inner =
      '<QBXML><QBXMLMsgsRs><ItemInventoryQueryRs requestID="1" statusCode="1" statusSeverity="Info" statusMessage="none" /></QBXMLMsgsRs></QBXML>';
    for (const declaration of ['<?xml version="1.0\u97d6 ?>', '<?xml version=\u97d51.0" ?>']) {
      assert.throws(() => parseQbxmlResponse(`${declaration}\n${inner}`), QbxmlSyntaxError);
    }
  });
});
