import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage } from '../../../src/qbxml/build';
import { parseQbxmlResponse } from '../../../src/qbxml/parse';
import type { DataExtDefRet } from '../../../src/qbxml/requests';
import { CompanyFileSimulator } from '../../../src/sandbox/quickbooks/companyFile';

function define(file: CompanyFileSimulator, requestId: string, fields: Record<string, unknown>): DataExtDefRet {
  const xml = file.processRequest(
    buildQbxmlMessage([
      {
        type: 'DataExtDefAdd',
        requestId,
        fields: { ownerId: '0', dataExtType: 'STR255TYPE', assignToObject: ['Customer'], ...fields } as never,
      },
    ]),
  );
  const [rs] = parseQbxmlResponse(xml);
  assert.equal(rs?.statusCode, 0, rs?.statusMessage);
  const ret = rs?.records[0] as DataExtDefRet | undefined;
  assert.ok(ret);
  return ret;
}

describe('DataExtDefRet', () => {
  it('carries every child QuickBooks reports: id, name, type, objects, both Require flags and the format', () => {
    const file = new CompanyFileSimulator({ name: 'dataext-def' });
    const crm = define(file, 'd1', {
      dataExtName: 'CRM Id',
      dataExtListRequire: true,
      dataExtTxnRequire: false,
      dataExtFormatString: 'XXXX',
    });
    assert.equal(crm.ownerId, '0');
    assert.equal(crm.dataExtName, 'CRM Id');
    assert.equal(crm.dataExtType, 'STR255TYPE');
    assert.deepEqual(crm.assignToObject, ['Customer']);
    assert.equal(crm.dataExtListRequire, true);
    assert.equal(crm.dataExtTxnRequire, false);
    assert.equal(crm.dataExtFormatString, 'XXXX');
    // Flags the Add left out are reported as stored: false.
    const region = define(file, 'd2', { dataExtName: 'Region' });
    assert.equal(region.dataExtListRequire, false);
    assert.equal(region.dataExtTxnRequire, false);
    assert.equal(region.dataExtFormatString, undefined);
    assert.ok(typeof crm.dataExtId === 'number' && typeof region.dataExtId === 'number');
    assert.notEqual(crm.dataExtId, region.dataExtId);
  });
});
