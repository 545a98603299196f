/**
 * Deterministic, realistic-looking data for the benchmarks: assets, leases, events and payments
 * built from an index, so every benchmark can find any record again by its index. Shapes follow
 * DOMAIN.md (documents of typical size, mixed-case addresses looked up case-insensitively).
 */
import { randomUUID } from 'node:crypto';
import type { LeaseAgreement, LeaseStatus, NewAsset, NewLease, StoredAsset, StoredEvent, StoredLease } from '../../src/storage/contract/database.js';
import { LEASE_STATUSES } from '../../src/storage/contract/database.js';

/** Chain id used throughout (Base Sepolia). */
export const CHAIN_ID = 84532;
const REGISTRY = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const FACTORY = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const BASE_MS = Date.UTC(2025, 0, 1);

/** `0x` + `tag` + `i` in hex, padded to `digits` hex digits in total. */
function hexId(tag: string, i: number, digits: number): string {
  return `0x${tag}${i.toString(16).padStart(digits - tag.length, '0')}`;
}

/** A 32-byte hash unique per (tag, i). */
export function hash(tag: string, i: number): string {
  return hexId(tag, i, 64);
}

/** Asset `i`'s token address, mixed case as a checksummed address is. */
export function tokenAddress(i: number): string {
  return hexId('AbCd', i, 40);
}

/** Lessor `i`'s address (mixed case). */
export function lessorAddress(i: number): string {
  return hexId('Aa11', i, 40);
}

/** Lessee `i`'s address (mixed case). */
export function lesseeAddress(i: number): string {
  return hexId('Bb22', i, 40);
}

/** The offchain asset id of asset `i`. */
export function assetKey(i: number): string {
  return `ASSET-${i}`;
}

/** The offchain lease id of lease `i`. */
export function leaseKey(i: number): string {
  return `LEASE-${i}`;
}

/** Asset `i` as `saveAsset` takes it; metadata about 1.7 KB of JSON, shaped like the protocol's (2-3 KB). */
export function newAsset(i: number): NewAsset {
  const assetId = assetKey(i);
  return {
    assetId,
    chainId: CHAIN_ID,
    contractAddress: REGISTRY,
    tokenAddress: tokenAddress(i),
    metadataHash: hash('a1', i),
    blockNumber: 1_000_000 + i,
    transactionHash: hash('a2', i),
    metadata: {
      assetId,
      name: `Orbital asset ${i}`,
      description: 'Geostationary communications satellite with Ku-band transponders leased by capacity share.',
      assetType: 'satellite',
      specifications: {
        orbital: { type: 'geo', altitude_km: 35786, inclination_deg: 0.05, longitude_deg: (i % 360) - 180 },
        physical: { mass_kg: 3500 + (i % 500), power_watts: 12000, design_life_years: 15 },
        mission: {
          launch_date: '2023-03-15T00:00:00.000Z',
          operator: 'Example Orbital Ltd',
          status: 'operational',
          payload: ['24 Ku-band transponders (36 MHz)', '8 Ka-band spot beams', 'telemetry, tracking and command on S-band'],
          coverage: 'Europe, North Africa and the Middle East',
        },
      },
      documents: ['technical_specification', 'insurance_certificate', 'operating_license', 'orbital_slot_filing'].map((documentType, d) => ({
        documentId: `doc_${assetId}_${d}`,
        filename: `${assetId.toLowerCase()}-${documentType}.pdf`,
        documentType,
        hash: hash('d0', i * 4 + d),
        size: 1_048_576 + d,
        uploadedAt: '2024-01-10T12:00:00.000Z',
      })),
      metadata: { createdAt: '2024-01-10T12:00:00.000Z', updatedAt: '2024-02-01T08:30:00.000Z', version: '1.0.0' },
    },
  };
}

/** Asset `i` as stored (for `importRecords`), created `i` ms after a fixed instant. */
export function storedAsset(i: number): StoredAsset {
  const at = new Date(BASE_MS + i);
  return { ...newAsset(i), id: randomUUID(), createdAt: at, updatedAt: at };
}

/** How lease `i` is placed among `assetCount` assets. */
export interface LeasePlacement {
  asset: number;
  status: LeaseStatus;
  lessor: number;
  lessee: number;
}

/** Lessors and lessees; with 100,000 leases about 12.6 leases per lessor and 5 per lessee. */
export const LESSORS = 7_919;
export const LESSEES = 19_997;

/**
 * Lease `i` belongs to asset `i % assetCount`; statuses rotate so that each asset has leases of
 * every status and each status holds a quarter of all leases.
 */
export function placeLease(i: number, assetCount: number): LeasePlacement {
  const round = Math.floor(i / assetCount);
  return {
    asset: i % assetCount,
    status: LEASE_STATUSES[(i + round) % LEASE_STATUSES.length] as LeaseStatus,
    lessor: i % LESSORS,
    lessee: i % LESSEES,
  };
}

function agreement(leaseId: string, assetId: string, lessor: string, lessee: string, i: number): LeaseAgreement {
  return {
    leaseId,
    assetId,
    lessorAddress: lessor,
    lesseeAddress: lessee,
    terms: {
      startDate: '2025-01-01T00:00:00.000Z',
      endDate: '2026-01-01T00:00:00.000Z',
      paymentAmount: '1000000000000000000000',
      paymentSchedule: 'hourly',
      currency: 'USDC',
      restrictions: ['No interference with other satellites', 'Weekly status reports required', 'Power consumption limited to 80% of capacity'],
      specificTerms: { assetType: 'satellite', transponder: i % 24, bandwidth_mhz: 36, data_download_rights: true },
    },
    legalDocument: {
      documentId: `doc_${leaseId}`,
      filename: `lease-agreement-${leaseId.toLowerCase()}.pdf`,
      documentType: 'lease_agreement',
      hash: hash('c1', i),
      size: 2_048_000,
      uploadedAt: '2024-12-15T14:00:00.000Z',
      description: `Legally binding lease agreement ${leaseId} for transponder capacity of ${assetId}`,
    },
    metadataHash: hash('c2', i),
    status: 'active',
    signatures: { lessor: hash('c3', i), lessee: hash('c4', i) },
    metadata: { createdAt: '2024-12-15T14:00:00.000Z', updatedAt: '2024-12-20T10:30:00.000Z', version: '1.0.0' },
  };
}

/** Lease `i` over `assetCount` assets, as `saveLease` takes it; agreement about 1.3 KB of JSON (the protocol's are 1.5-2 KB). */
export function newLease(i: number, assetCount: number): NewLease {
  const place = placeLease(i, assetCount);
  const leaseId = leaseKey(i);
  const assetId = assetKey(place.asset);
  const lessor = lessorAddress(place.lessor);
  const lessee = lesseeAddress(place.lessee);
  return {
    leaseId,
    assetId,
    chainId: CHAIN_ID,
    contractAddress: FACTORY,
    lessor,
    lessee,
    agreement: agreement(leaseId, assetId, lessor, lessee, i),
    status: place.status,
    blockNumber: 2_000_000 + i,
    transactionHash: hash('b1', i),
  };
}

/** Lease `i` as stored, created after every asset, 1 ms apart. */
export function storedLease(i: number, assetCount: number): StoredLease {
  const at = new Date(BASE_MS + 86_400_000 + i);
  return { ...newLease(i, assetCount), id: randomUUID(), createdAt: at, updatedAt: at };
}

const EVENT_NAMES = ['AssetRegistered', 'LeaseMinted', 'LeaseOfferPosted', 'LeaseBidPlaced', 'LeaseAccepted', 'RevenueClaimed'];
const EVENT_CONTRACTS = [REGISTRY, FACTORY, '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0'];

/** The (transactionHash, logIndex) of event `i`. */
export function eventKeyOf(i: number): { transactionHash: string; logIndex: number } {
  return { transactionHash: hash('e1', Math.floor(i / 4)), logIndex: i % 4 };
}

/** Event `i` as stored: 4 logs per transaction and block; one in `unprocessedEvery` unprocessed. */
export function storedEvent(i: number, unprocessedEvery = 100): StoredEvent {
  const { transactionHash, logIndex } = eventKeyOf(i);
  return {
    id: randomUUID(),
    eventName: EVENT_NAMES[i % EVENT_NAMES.length] as string,
    contractAddress: EVENT_CONTRACTS[i % EVENT_CONTRACTS.length] as string,
    blockNumber: 3_000_000 + Math.floor(i / 4),
    transactionHash,
    logIndex,
    args: { tokenId: String(i), assetId: String(i % 10_000), lessor: lessorAddress(i % LESSORS), lessee: lesseeAddress(i % LESSEES) },
    processed: i % unprocessedEvery !== 0,
    createdAt: new Date(BASE_MS + 2 * 86_400_000 + i),
  };
}

/** Builds records `from` .. `to - 1` with `make`. */
export function range<T>(from: number, to: number, make: (i: number) => T): T[] {
  const out: T[] = [];
  for (let i = from; i < to; i++) out.push(make(i));
  return out;
}

/** A small deterministic PRNG (mulberry32), so runs pick the same keys. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random integer in 0 .. n-1 from `random`. */
export function pick(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
