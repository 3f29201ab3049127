import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildQbxmlMessage,
  charactersOutsideWindows1252,
  OutsideWindows1252Error,
  QbxmlFieldError,
  textForQuickBooks,
  transliterateToWindows1252,
} from '../../src/qbxml';

describe('text QuickBooks can store (Windows-1252)', () => {
  it('finds the characters outside Windows-1252 and only those', () => {
    assert.deepEqual(charactersOutsideWindows1252('Café € “Ltd” Œuvre ™'), []);
    assert.deepEqual(charactersOutsideWindows1252('ΑΒ Αγ ΑΕ'), ['Α', 'Β', 'γ', 'Ε']);
    assert.deepEqual(charactersOutsideWindows1252('Smile 😀 Ltd'), ['😀']);
  });

  it('transliterates to the nearest Western text, keeping what QuickBooks stores', () => {
    assert.equal(transliterateToWindows1252('Ελληνικά ΑΕ'), 'Ellinika AE');
    assert.equal(transliterateToWindows1252('北京贸易有限公司'), 'BeiJingMaoYiYouXianGongSi');
    assert.equal(transliterateToWindows1252('ООО Москва'), 'OOO Moskva');
    assert.equal(transliterateToWindows1252('Café Zürich €5'), 'Café Zürich €5');
    assert.deepEqual(charactersOutsideWindows1252(transliterateToWindows1252('Łódź 😀 Ελλάδα')), []);
  });

  it('applies a policy to every string of a request, naming the field', () => {
    const fields = {
      name: 'Ελληνικά ΑΕ',
      billAddress: { city: 'Αθήνα', addr1: 'Main 1' },
      lines: [{ desc: 'ok' }, { desc: '茶' }],
    };
    const { value, transliterated } = textForQuickBooks(fields, 'transliterate');
    assert.equal(value.name, 'Ellinika AE');
    assert.equal(value.billAddress.city, 'Athina');
    assert.equal(value.billAddress.addr1, 'Main 1');
    assert.deepEqual(
      transliterated.map((t) => t.field),
      ['name', 'billAddress.city', 'lines[1].desc'],
    );
    assert.throws(
      () => textForQuickBooks({ name: 'Acme', lines: [{ desc: 'ok' }, { desc: '茶 😀' }] }, 'fail'),
      (err: unknown) =>
        err instanceof OutsideWindows1252Error &&
        err.field === 'lines[1].desc' &&
        err.characters.join('') === '茶😀' &&
        /U\+8336/.test(err.message) &&
        /U\+1F600/.test(err.message),
    );
  });

  it('the builder refuses text QuickBooks would fail the whole message for, naming field and characters', () => {
    assert.throws(
      () => buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: '北京贸易有限公司' } }]),
      (err: unknown) => err instanceof QbxmlFieldError && err.field === 'name' && err.message.includes('"北"'),
    );
    assert.doesNotThrow(() =>
      buildQbxmlMessage([{ type: 'CustomerAdd', requestId: 'r', fields: { name: 'Café “Zürich” €' } }]),
    );
  });
});
