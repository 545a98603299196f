/**
 * copyRows: the bytes a bulk load sends with COPY. Lines of every length, in characters of one,
 * two, three and four UTF-8 bytes, come out whole however they fall against the buffer's growth.
 */
import { describe, expect, it } from 'vitest';
import { copyRows } from '../src/storage/backends/sql/copy-text.js';
import { COLUMNS } from '../src/storage/backends/sql/records.js';
import type { StoredAsset } from '../src/storage/contract/database.js';

const CHARACTERS = ['a', 'é', '衛', '😀'];

function asset(n: number): StoredAsset {
  const at = new Date(Date.UTC(2025, 0, 1) + n);
  const name = (CHARACTERS[n % CHARACTERS.length] as string).repeat(1 + ((n * 37) % 400));
  return {
    id: `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    // A raw tab, newline and backslash in a text column: COPY's own escapes.
    assetId: `COPY-${n}\tx\ny\\z`,
    chainId: 84532,
    contractAddress: `0x${'a'.repeat(40)}`,
    tokenAddress: `0x${n.toString(16).padStart(40, '0')}`,
    metadata: { name, note: 'tab\there, newline\nthere, backslash \\' },
    metadataHash: `0x${'b'.repeat(64)}`,
    blockNumber: n,
    transactionHash: `0x${'c'.repeat(64)}`,
    createdAt: at,
    updatedAt: at,
  };
}

describe('copyRows', () => {
  it('gives, for many records at once, the bytes of each record alone, one escaped line each', () => {
    const records = Array.from({ length: 500 }, (_v, n) => asset(n));
    const all = copyRows('assets', records);
    expect(all.equals(Buffer.concat(records.map((r) => copyRows('assets', [r]))))).toBe(true);
    const lines = all.toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(records.length);
    lines.forEach((line, n) => {
      // One field per column: no raw tab or newline is left inside a value.
      expect(line.split('\t')).toHaveLength(COLUMNS.assets.length);
      expect(line.startsWith(`${records[n]?.id}\t`)).toBe(true);
      expect(line).toContain(`\tCOPY-${n}\\tx\\ny\\\\z\t`);
      expect(line).toContain((records[n] as StoredAsset & { metadata: { name: string } }).metadata.name);
      // In the JSON document, its own escapes' backslashes doubled.
      expect(line).toContain('tab\\\\there, newline\\\\nthere, backslash \\\\\\\\');
    });
  });

  it('gives nothing for no records', () => {
    expect(copyRows('assets', [])).toHaveLength(0);
  });
});
