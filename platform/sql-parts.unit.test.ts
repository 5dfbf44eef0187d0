// Statements written with their own $1… keep their values when sent together.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { together } from './sql-parts.js';

test('when statements are sent together, then each one’s parameters are renumbered after the ones before it', () => {
  const q = together(
    'x',
    [
      { text: 'INSERT INTO a VALUES ($1, $2)', values: ['a1', 'a2'] },
      {
        text: 'UPDATE b SET v = $2 WHERE id = $1 AND n = $10 RETURNING *',
        values: ['b1', 'b2', 3, 4, 5, 6, 7, 8, 9, 'b10'],
      },
      { text: 'INSERT INTO c SELECT $1', values: ['c1'] },
    ],
    1,
  );
  assert.equal(
    q.text,
    'WITH s0 AS (INSERT INTO a VALUES ($1, $2)),\n' +
      's1 AS (UPDATE b SET v = $4 WHERE id = $3 AND n = $12 RETURNING *),\n' +
      's2 AS (INSERT INTO c SELECT $13)\n' +
      'SELECT * FROM s1',
  );
  assert.deepEqual(q.values, ['a1', 'a2', 'b1', 'b2', 3, 4, 5, 6, 7, 8, 9, 'b10', 'c1']);
  assert.equal(q.name, 'x');
});

test('when no statement is asked back, then the query returns no rows', () => {
  assert.match(together('y', [{ text: 'DELETE FROM a WHERE id = $1', values: [1] }]).text, /SELECT 1 WHERE false$/);
});
