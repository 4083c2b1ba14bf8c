import { marshall } from '@aws-sdk/util-dynamodb';
import { itemSize, transactionItemUnits } from '../../../bench/harness';

// The cost topic's write units for transactions, by AWS's rule (DynamoDB Local reports its own).
describe('write units of a transaction item, as AWS bills them', () => {
  const item = (bytes: number, index = false) =>
    marshall({ pk: 'P', sk: 'S', pad: 'x'.repeat(bytes), ...(index ? { gsi4pk: 'OUTBOX', gsi4sk: 'k' } : {}) });

  it('sizes an item by its attribute names and values', () => {
    expect(itemSize(marshall({ pk: 'a' }))).toBe(3);
    expect(itemSize(marshall({ n: 12345 }))).toBe(1 + 4);
    expect(itemSize(marshall({ m: { a: 'xy' }, l: ['z'] }))).toBe(1 + 3 + 1 + 1 + 2 + (1 + 3 + 1 + 1));
  });

  it('charges 2 units per KB of the larger of the item before and after, at least 2', () => {
    expect(transactionItemUnits(undefined, item(500))).toBe(2);
    expect(transactionItemUnits(item(500), item(2200))).toBe(6);
    expect(transactionItemUnits(item(2200), item(100))).toBe(6);
  });

  it('adds a unit per KB for each index entry written or removed', () => {
    expect(transactionItemUnits(undefined, item(500, true))).toBe(2 + 1);
    // Leaving the index (the outbox entry done): the old entry is removed.
    expect(transactionItemUnits(item(500, true), item(500))).toBe(2 + 1);
    // Five small items are five items: 10 units, not the "2" DynamoDB Local reports for them together.
    expect(Array.from({ length: 5 }, () => transactionItemUnits(undefined, item(500))).reduce((a, b) => a + b)).toBe(
      10,
    );
  });
});
