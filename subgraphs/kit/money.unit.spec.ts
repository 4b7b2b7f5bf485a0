import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../events/errors.ts';
import { addFen, applyRate, formatMoney, moneyView, parseMoney, subtractFen } from './money.ts';

describe('money', () => {
  it('parses decimal yuan strings into whole fen', () => {
    assert.equal(parseMoney('1234.56', 'amount'), 123456);
    assert.equal(parseMoney('0', 'amount'), 0);
    assert.equal(parseMoney('0.5', 'amount'), 50);
    assert.equal(parseMoney('10', 'amount'), 1000);
    assert.equal(parseMoney('-3.07', 'amount', { allowNegative: true }), -307);
  });

  it('refuses anything that is not an exact amount of yuan, naming the field', () => {
    for (const bad of ['1.234', 'NaN', '', ' 1', '1 ', '+1', '1e3', '.5', '1.', '01', '0x10', '1,000.00', 'Infinity', '１２']) {
      assert.throws(() => parseMoney(bad, 'price'), (e: unknown) => e instanceof ValidationError && e.details.field === 'price', bad);
    }
    assert.throws(() => parseMoney(12.5, 'price'), /decimal string of yuan.*the number 12.5/);
    assert.throws(() => parseMoney('-1.00', 'tax'), /tax must not be negative/);
    assert.throws(() => parseMoney('90071992547409.92', 'price'), /beyond the largest amount/);
    assert.equal(parseMoney('90071992547409.91', 'price'), Number.MAX_SAFE_INTEGER);
  });

  it('formats fen as yuan with two decimals, and round-trips', () => {
    assert.equal(formatMoney(123456), '1234.56');
    assert.equal(formatMoney(5), '0.05');
    assert.equal(formatMoney(0), '0.00');
    assert.equal(formatMoney(-307), '-3.07');
    for (const text of ['0.01', '0.10', '99999999.99', '7.00']) assert.equal(formatMoney(parseMoney(text, 'x')), text);
    assert.throws(() => formatMoney(0.5), /whole number of fen/);
  });

  it('adds and subtracts exactly where floating point would drift', () => {
    assert.equal(0.1 + 0.2 === 0.3, false);
    assert.equal(addFen(parseMoney('0.10', 'a'), parseMoney('0.20', 'b')), parseMoney('0.30', 'c'));
    assert.equal(formatMoney(addFen(...Array.from({ length: 1000 }, () => 1))), '10.00');
    assert.equal(subtractFen(100, 250), -150);
    assert.throws(() => addFen(Number.MAX_SAFE_INTEGER, 1), /beyond the largest amount/);
  });

  it('applies a rate in basis points with one half-up rounding', () => {
    assert.equal(applyRate(parseMoney('1000000.00', 'p'), 300), parseMoney('30000.00', 't'));
    assert.equal(applyRate(17, 300), 1); // 0.51 fen → 1
    assert.equal(applyRate(16, 300), 0); // 0.48 fen → 0
    assert.equal(applyRate(50, 100), 1); // exactly 0.5 fen rounds up
    assert.throws(() => applyRate(100, 1.5), /whole number of basis points/);
  });

  it('is served as fen and yuan strings, never as a number', () => {
    assert.deepEqual(moneyView(123456), { fen: '123456', yuan: '1234.56', currency: 'CNY' });
    assert.deepEqual(moneyView(parseMoney('1.50', 'a')), { fen: '150', yuan: '1.50', currency: 'CNY' });
  });
});
