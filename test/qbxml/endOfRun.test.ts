import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { END_OF_RUN_REQUEST_ID, endOfRunMessage, isEndOfRunAnswer } from '../../src/qbxml/endOfRun';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';

describe('the closing HostQuery of a Web Connector run', () => {
  it('is a message the strict QuickBooks simulator answers, and its answer is recognised', () => {
    const file = new CompanyFileSimulator({ name: 'end-of-run' });
    const answer = file.processRequest(endOfRunMessage('13.0'));
    assert.match(answer, new RegExp(`<HostQueryRs requestID="${END_OF_RUN_REQUEST_ID}" statusCode="0"`));
    assert.match(answer, /<HostRet><ProductName>/);
    assert.equal(isEndOfRunAnswer(answer), true);
  });

  it('is not mistaken for any other answer', () => {
    const rs = (body: string) => `<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>${body}</QBXMLMsgsRs></QBXML>`;
    const host = `<HostQueryRs requestID="${END_OF_RUN_REQUEST_ID}" statusCode="0" statusSeverity="Info" statusMessage="Status OK" />`;
    assert.equal(isEndOfRunAnswer(rs(host)), true);
    assert.equal(isEndOfRunAnswer(rs(host.replace(END_OF_RUN_REQUEST_ID, 'q-1'))), false);
    assert.equal(
      isEndOfRunAnswer(
        rs(`${host}<CustomerQueryRs requestID="q-1" statusCode="0" statusSeverity="Info" statusMessage="OK" />`),
      ),
      false,
      'an answer that also carries a queued request goes to the company file',
    );
    assert.equal(isEndOfRunAnswer(`<QBXML>${END_OF_RUN_REQUEST_ID}`), false, 'unreadable');
    assert.equal(isEndOfRunAnswer(''), false);
  });

  it('refuses a version that is not one', () => {
    assert.throws(() => endOfRunMessage('13.0"?><x'), /not a qbXML version/);
  });
});
