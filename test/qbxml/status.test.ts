import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyStatus,
  continueIterator,
  InvalidIteratorError,
  InvalidReferenceError,
  isWriteRequest,
  NameInUseError,
  ObjectNotFoundError,
  QbxmlStatusError,
  QuickBooksInternalError,
  RecordLockedError,
  StaleEditSequenceError,
  statusErrorFor,
  type QbxmlRequest,
  type QbxmlResponse,
  type StatusSeverity,
} from '../../src/qbxml';

const severityFor = (code: number): StatusSeverity => (code >= 1000 ? 'Error' : code >= 500 ? 'Warn' : 'Info');
const response = (statusCode: number, statusSeverity = severityFor(statusCode)): QbxmlResponse => ({
  requestId: 'r1',
  type: 'CustomerAddRs',
  statusCode,
  statusSeverity,
  statusMessage: `message ${statusCode}`,
  records: [],
});

describe('status classification and typed errors', () => {
  const table: Array<{ code: number; cls: string; error?: string; retryable?: boolean }> = [
    { code: 0, cls: 'ok' },
    { code: 1, cls: 'empty' },
    { code: 500, cls: 'warning' },
    { code: 530, cls: 'warning' },
    { code: 1000, cls: 'error', error: 'QuickBooksInternalError', retryable: true },
    { code: 1010, cls: 'error', error: 'QuickBooksInternalError', retryable: true },
    { code: 3000, cls: 'error', error: 'ObjectNotFoundError', retryable: false },
    { code: 3100, cls: 'error', error: 'NameInUseError', retryable: false },
    { code: 3120, cls: 'error', error: 'ObjectNotFoundError', retryable: false },
    { code: 3140, cls: 'error', error: 'InvalidReferenceError', retryable: false },
    { code: 3170, cls: 'error', error: 'RecordLockedError', retryable: true },
    { code: 3175, cls: 'error', error: 'RecordLockedError', retryable: true },
    { code: 3176, cls: 'error', error: 'RecordLockedError', retryable: true },
    { code: 3180, cls: 'error', error: 'RecordLockedError', retryable: true },
    { code: 3200, cls: 'error', error: 'StaleEditSequenceError', retryable: false },
    { code: 3391, cls: 'error', error: 'InvalidIteratorError', retryable: false },
    { code: 9999, cls: 'error', error: 'QbxmlStatusError', retryable: false },
  ];
  for (const { code, cls, error, retryable } of table) {
    it(`${code} → ${cls}${error ? ` / ${error}` : ''}`, () => {
      const res = response(code);
      assert.equal(classifyStatus(res), cls);
      const err = statusErrorFor(res);
      if (error === undefined) {
        assert.equal(err, undefined);
        return;
      }
      assert.ok(err instanceof QbxmlStatusError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, error);
      assert.equal(err.statusCode, code);
      assert.equal(err.statusSeverity, 'Error');
      assert.equal(err.statusMessage, `message ${code}`);
      assert.equal(err.requestId, 'r1');
      assert.equal(err.retryable, retryable);
      assert.match(err.message, new RegExp(String(code)));
    });
  }

  it('subclasses are distinguishable with instanceof', () => {
    const pairs: Array<[number, new (...args: never[]) => QbxmlStatusError]> = [
      [3100, NameInUseError],
      [3140, InvalidReferenceError],
      [3120, ObjectNotFoundError],
      [3200, StaleEditSequenceError],
      [3176, RecordLockedError],
      [3391, InvalidIteratorError],
      [1000, QuickBooksInternalError],
    ];
    for (const [code, cls] of pairs) assert.ok(statusErrorFor(response(code)) instanceof cls, String(code));
  });

  it('an Error severity below 1000 is still an error; 1 is empty whatever its severity', () => {
    assert.equal(classifyStatus(response(210, 'Error')), 'error');
    assert.equal(classifyStatus(response(1, 'Warn')), 'empty');
    assert.equal(classifyStatus(response(100, 'Warn')), 'warning');
  });
});

describe('request helpers', () => {
  const cases: Array<[QbxmlRequest, boolean]> = [
    [{ type: 'CustomerQuery', requestId: 'a' }, false],
    [{ type: 'InvoiceQuery', requestId: 'a' }, false],
    [{ type: 'ClassQuery', requestId: 'a' }, false],
    [{ type: 'CustomerAdd', requestId: 'a', fields: { name: 'n' } }, true],
    [{ type: 'InvoiceMod', requestId: 'a', fields: { txnId: 't', editSequence: 'e' } }, true],
    [
      {
        type: 'DataExtAdd',
        requestId: 'a',
        fields: { ownerId: '0', dataExtName: 'n', target: { kind: 'company' }, dataExtValue: 'v' },
      },
      true,
    ],
    [
      {
        type: 'DataExtDefAdd',
        requestId: 'a',
        fields: { ownerId: '0', dataExtName: 'n', dataExtType: 'STR255TYPE' },
      },
      true,
    ],
  ];
  for (const [req, write] of cases) {
    it(`isWriteRequest(${req.type}) = ${write}`, () => assert.equal(isWriteRequest(req), write));
  }

  it('continueIterator keeps the filters and switches to Continue', () => {
    const start: QbxmlRequest = {
      type: 'CustomerQuery',
      requestId: 'c1',
      iterator: 'Start',
      maxReturned: 100,
      fromModifiedDate: '2024-01-01T00:00:00',
      ownerIds: ['0'],
    };
    assert.deepEqual(continueIterator(start, '{guid}'), { ...start, iterator: 'Continue', iteratorId: '{guid}' });
    assert.equal(start.iterator, 'Start', 'the original is not mutated');
  });

  it('continueIterator refuses requests without iterator support and empty IDs', () => {
    assert.throws(() => continueIterator({ type: 'ClassQuery', requestId: 'k' }, '{g}'), TypeError);
    assert.throws(
      () => continueIterator({ type: 'ClassAdd', requestId: 'k', fields: { name: 'n' } }, '{g}'),
      TypeError,
    );
    assert.throws(() => continueIterator({ type: 'InvoiceQuery', requestId: 'k' }, ''), TypeError);
  });
});
