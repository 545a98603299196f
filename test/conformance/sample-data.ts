/**
 * The protocol's real sample records (test/fixtures/sample-data): asset metadata and lease
 * agreements used as documents, and their malformed hex strings used as validation inputs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { JsonObject } from '../../src/storage/contract/database.js';

/** Where the sample files live, relative to this file. */
export const SAMPLE_DIR = new URL('../fixtures/sample-data/', import.meta.url);

/** One parsed sample file. */
export interface SampleFile {
  file: string;
  doc: JsonObject;
}

/** The sample files grouped by kind (file name prefix). */
export interface SampleData {
  assets: SampleFile[];
  leases: SampleFile[];
  revenue: SampleFile[];
}

/** A hex string in a sample that is neither an address (42 chars) nor a hash (66 chars). */
export interface MalformedHex {
  where: string;
  value: string;
}

let cached: SampleData | undefined;

/** Reads and parses the sample files (once per worker); fails the test when a kind is missing. */
export function loadSamples(): SampleData {
  if (!cached) {
    const data: SampleData = { assets: [], leases: [], revenue: [] };
    for (const file of readdirSync(SAMPLE_DIR).filter((f) => f.endsWith('.json')).sort()) {
      const doc: unknown = JSON.parse(readFileSync(new URL(file, SAMPLE_DIR), 'utf8'));
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${file} is not a JSON object`);
      const kind = file.startsWith('assets-') ? 'assets' : file.startsWith('leases-') ? 'leases' : file.startsWith('revenue-') ? 'revenue' : undefined;
      if (kind) data[kind].push({ file, doc: doc as JsonObject });
    }
    cached = data;
  }
  expect(cached.assets.length, 'asset samples').toBeGreaterThan(0);
  expect(cached.leases.length, 'lease samples').toBeGreaterThan(0);
  expect(cached.revenue.length, 'revenue samples').toBeGreaterThan(0);
  return cached;
}

/** Every string under `value` that starts with 0x and whose length is neither 42 nor 66. */
export function malformedHexIn(value: unknown, where: string): MalformedHex[] {
  if (typeof value === 'string') {
    return value.startsWith('0x') && value.length !== 42 && value.length !== 66 ? [{ where, value }] : [];
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => malformedHexIn(v, `${where}.${k}`));
}

/** The malformed hex strings of every sample file; asserts the messy data is really there. */
export function malformedSampleHex(): MalformedHex[] {
  const { assets, leases, revenue } = loadSamples();
  const found = [...assets, ...leases, ...revenue].flatMap(({ file, doc }) => malformedHexIn(doc, file));
  // DOMAIN.md: several 62-65 character hashes and one 44-character address.
  expect(found.length).toBeGreaterThanOrEqual(10);
  expect(found.some((m) => m.value.length === 44 && m.where.endsWith('holderAddress'))).toBe(true);
  expect(found.some((m) => m.where.endsWith('metadataHash'))).toBe(true);
  expect(found.some((m) => m.where.endsWith('legalDocument.hash'))).toBe(true);
  return found;
}

/** A string field of a sample document, failing the test when it is absent. */
export function stringField(doc: JsonObject, key: string): string {
  const value = doc[key];
  if (typeof value !== 'string') throw new Error(`sample field ${key} is not a string`);
  return value;
}
