/**
 * How chain intents become record changes, and how a reorg undoes them: written once over small
 * views each backend provides inside its own atomic step (a SQL transaction, or memory's
 * serialized section), so memory and SQL resolve and undo alike: {@link ChainApplyView} to apply
 * (on SQL a batch overlay fed by {@link keysOfIntents}), {@link ChainEffectView} to undo.
 *
 * Matching (docs/ingestion.md): an on-chain asset id N maps to the stored asset recorded for it
 * in `chain_links`, else the asset whose `assetId` is "N", else the asset with the same token
 * address (a hand-made record); a lease token id T to the linked lease, else the lease whose
 * `leaseId` is "T". New records take those decimal ids as their keys. Ids start at 0, and "0" is
 * an id like any other: absence is `undefined`/null, never 0.
 */
import type { AssetRegisteredIntent, ChainIntent, LeaseIntent, OfferPostedIntent } from '../contract/chain.js';
import { StorageError } from '../contract/errors.js';
import type { JsonObject, LeaseStatus, NewAsset, NewLease, StoredAsset, StoredLease } from '../contract/records.js';

/** The kinds of on-chain id the store links to records. */
export type ChainLinkKind = 'asset' | 'lease' | 'offer';

/** A stored link from an on-chain id to a record key. */
export interface ChainLink {
  chainId: number;
  kind: ChainLinkKind;
  onchainId: string;
  /** The stored record's key; null for an offer not yet accepted. */
  recordKey: string | null;
  data: JsonObject;
}

/** The fields of an asset the chain sets (and a reorg restores). */
export type AssetImage = Omit<StoredAsset, 'id' | 'assetId' | 'createdAt' | 'updatedAt'>;
/** The fields of a lease the chain sets (and a reorg restores). */
export type LeaseImage = Omit<StoredLease, 'id' | 'leaseId' | 'createdAt' | 'updatedAt'>;

/** A before-image of one change: null when the change created the record. */
export interface UndoEntry {
  target: 'asset' | 'lease' | 'link';
  /** assetId, leaseId, or `chainId/kind/onchainId`. */
  key: string;
  before: JsonObject | null;
}

/** The chain tables a backend keeps beside the records (links and undo images), for tests and diagnostics. */
export interface ChainTablesDump {
  /** Sorted by {@link linkKey}. */
  links: ChainLink[];
  /** Sorted by event id, then seq. */
  effects: (UndoEntry & { eventId: string; seq: number })[];
}

/**
 * What the resolver reads and writes while applying intents, inside one atomic step. The SQL
 * backends answer it from a batch overlay (prefetched rows, written back in a few statements at
 * the end); memory answers it from its tables.
 */
export interface ChainApplyView {
  findAsset(assetId: string): Promise<StoredAsset | null>;
  /** The oldest asset (by created_at, id) whose token address equals this one, ignoring case. */
  findAssetByToken(tokenAddress: string): Promise<StoredAsset | null>;
  insertAsset(asset: NewAsset): Promise<void>;
  setAsset(assetId: string, image: AssetImage): Promise<void>;
  findLease(leaseId: string): Promise<StoredLease | null>;
  insertLease(lease: NewLease): Promise<void>;
  setLease(leaseId: string, image: LeaseImage): Promise<void>;
  getLink(chainId: number, kind: ChainLinkKind, onchainId: string): Promise<ChainLink | null>;
  setLink(link: ChainLink): Promise<void>;
}

/** What a backend offers the resolver and the undo of a rewind, inside one atomic step. */
export interface ChainEffectView extends ChainApplyView {
  /** False (nothing deleted) when a lease refers to it. */
  deleteAsset(assetId: string): Promise<boolean>;
  /** False (nothing deleted) when payments or batches refer to it. */
  deleteLease(leaseId: string): Promise<boolean>;
  deleteLink(chainId: number, kind: ChainLinkKind, onchainId: string): Promise<void>;
}

/** The rows a batch of intents may read, so a backend can fetch them up front (see {@link applyIntents}). */
export interface IntentKeys {
  /** Asset keys looked up directly (on-chain asset ids, which are also new assets' keys). */
  assetIds: Set<string>;
  /** Token addresses, lowercased. */
  tokens: Set<string>;
  /** Lease keys looked up directly (lease token ids). */
  leaseIds: Set<string>;
  /** Links by {@link linkKey}. */
  links: Map<string, { chainId: number; kind: ChainLinkKind; onchainId: string }>;
}

/**
 * Every asset, lease and link the intents name directly. What they reach only through a stored
 * link (the record a link points to, the asset of a stored offer) is found once the links are
 * read; a view must still answer any other lookup correctly (e.g. by reading it then).
 */
export function keysOfIntents(intents: Iterable<ChainIntent>): IntentKeys {
  const keys: IntentKeys = { assetIds: new Set(), tokens: new Set(), leaseIds: new Set(), links: new Map() };
  const link = (chainId: number, kind: ChainLinkKind, onchainId: string) => keys.links.set(linkKey(chainId, kind, onchainId), { chainId, kind, onchainId });
  const asset = (chainId: number, onchainAssetId: string) => {
    keys.assetIds.add(onchainAssetId);
    link(chainId, 'asset', onchainAssetId);
  };
  for (const i of intents) {
    if (i.kind === 'asset-registered') {
      asset(i.chainId, i.onchainAssetId);
      keys.tokens.add(i.tokenAddress.toLowerCase());
    } else if (i.kind === 'offer-posted') {
      link(i.chainId, 'offer', i.onchainOfferId);
      asset(i.chainId, i.onchainAssetId);
    } else {
      if (i.onchainAssetId !== undefined) asset(i.chainId, i.onchainAssetId);
      if (i.onchainOfferId !== undefined) link(i.chainId, 'offer', i.onchainOfferId);
      link(i.chainId, 'lease', i.onchainLeaseTokenId);
      keys.leaseIds.add(i.onchainLeaseTokenId);
    }
  }
  return keys;
}

/** The metadata hash of an asset known only from the chain (its metadata is not on chain). */
export const UNKNOWN_METADATA_HASH = `0x${'0'.repeat(64)}`;

/** The key of a link in undo entries. */
export function linkKey(chainId: number, kind: ChainLinkKind, onchainId: string): string {
  return `${chainId}/${kind}/${onchainId}`;
}

function assetImage(a: StoredAsset): AssetImage {
  return {
    chainId: a.chainId,
    contractAddress: a.contractAddress,
    tokenAddress: a.tokenAddress,
    metadata: a.metadata,
    metadataHash: a.metadataHash,
    blockNumber: a.blockNumber,
    transactionHash: a.transactionHash,
  };
}

function leaseImage(l: StoredLease): LeaseImage {
  return {
    assetId: l.assetId,
    chainId: l.chainId,
    contractAddress: l.contractAddress,
    lessor: l.lessor,
    lessee: l.lessee,
    agreement: l.agreement,
    status: l.status,
    blockNumber: l.blockNumber,
    transactionHash: l.transactionHash,
  };
}

const same = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b;

/** Fields of `next` that differ from `current`, as "field: old -> new". */
function differences(current: Record<string, unknown>, next: Record<string, unknown>): string[] {
  return Object.keys(next)
    .filter((k) => !same(current[k], next[k]))
    .map((k) => `${k}: ${String(current[k])} -> ${String(next[k])}`);
}

/** Resolves and applies one event's intents; appends before-images to `undo` and chain-wins notes to `notes`. */
export async function applyIntents(view: ChainApplyView, intents: readonly ChainIntent[], undo: UndoEntry[], notes: string[]): Promise<void> {
  for (const intent of intents) {
    if (intent.kind === 'asset-registered') await applyAsset(view, intent, undo, notes);
    else if (intent.kind === 'offer-posted') await applyOffer(view, intent, undo);
    else await applyLease(view, intent, undo, notes);
  }
}

async function putLink(view: ChainApplyView, link: ChainLink, undo: UndoEntry[]): Promise<void> {
  const existing = await view.getLink(link.chainId, link.kind, link.onchainId);
  if (existing && existing.recordKey === link.recordKey && JSON.stringify(existing.data) === JSON.stringify(link.data)) return;
  undo.push({
    target: 'link',
    key: linkKey(link.chainId, link.kind, link.onchainId),
    before: existing ? { recordKey: existing.recordKey, data: existing.data } : null,
  });
  await view.setLink(link);
}

async function linkedAssetKey(view: ChainApplyView, chainId: number, onchainAssetId: string): Promise<string | null> {
  const link = await view.getLink(chainId, 'asset', onchainAssetId);
  if (link?.recordKey && (await view.findAsset(link.recordKey))) return link.recordKey;
  return (await view.findAsset(onchainAssetId)) ? onchainAssetId : null;
}

async function applyAsset(view: ChainApplyView, i: AssetRegisteredIntent, undo: UndoEntry[], notes: string[]): Promise<void> {
  const linked = await linkedAssetKey(view, i.chainId, i.onchainAssetId);
  const existing = (linked ? await view.findAsset(linked) : null) ?? (await view.findAssetByToken(i.tokenAddress));
  const fromChain = {
    chainId: i.chainId,
    contractAddress: i.contractAddress,
    tokenAddress: i.tokenAddress,
    blockNumber: i.blockNumber,
    transactionHash: i.transactionHash,
  };
  let key: string;
  if (existing) {
    key = existing.assetId;
    const before = assetImage(existing);
    const diff = differences(before, fromChain);
    if (diff.length > 0) {
      undo.push({ target: 'asset', key, before: toJson(before) });
      await view.setAsset(key, { ...before, ...fromChain });
      // A record made by hand before the chain confirmed it: its chain fields were placeholders or wrong.
      notes.push(`asset ${key}: the chain (asset id ${i.onchainAssetId}) overrides the stored record (${diff.join(', ')})`);
    }
  } else {
    key = i.onchainAssetId;
    await view.insertAsset({
      assetId: key,
      ...fromChain,
      metadata: { source: 'chain', onchainAssetId: i.onchainAssetId, assetType: i.assetType },
      metadataHash: UNKNOWN_METADATA_HASH,
    });
    undo.push({ target: 'asset', key, before: null });
  }
  await putLink(view, { chainId: i.chainId, kind: 'asset', onchainId: i.onchainAssetId, recordKey: key, data: { assetType: i.assetType } }, undo);
}

async function applyOffer(view: ChainApplyView, i: OfferPostedIntent, undo: UndoEntry[]): Promise<void> {
  const existing = await view.getLink(i.chainId, 'offer', i.onchainOfferId);
  await putLink(
    view,
    { chainId: i.chainId, kind: 'offer', onchainId: i.onchainOfferId, recordKey: existing?.recordKey ?? null, data: { lessor: i.lessor, onchainAssetId: i.onchainAssetId } },
    undo,
  );
}

const STATUS_RANK: Record<LeaseStatus, number> = { pending: 0, active: 1, completed: 2, terminated: 2 };

async function applyLease(view: ChainApplyView, i: LeaseIntent, undo: UndoEntry[], notes: string[]): Promise<void> {
  let lessor = i.lessor;
  let onchainAssetId = i.onchainAssetId;
  if (i.onchainOfferId !== undefined) {
    const offer = await view.getLink(i.chainId, 'offer', i.onchainOfferId);
    if (offer) {
      lessor ??= typeof offer.data['lessor'] === 'string' ? offer.data['lessor'] : undefined;
      onchainAssetId ??= typeof offer.data['onchainAssetId'] === 'string' ? offer.data['onchainAssetId'] : undefined;
    }
  }
  const assetKey = onchainAssetId === undefined ? null : await linkedAssetKey(view, i.chainId, onchainAssetId);
  const link = await view.getLink(i.chainId, 'lease', i.onchainLeaseTokenId);
  const existing = (link?.recordKey ? await view.findLease(link.recordKey) : null) ?? (await view.findLease(i.onchainLeaseTokenId));
  let key: string;
  if (existing) {
    key = existing.leaseId;
    const before = leaseImage(existing);
    const fromChain: Partial<LeaseImage> = { chainId: i.chainId, lessee: i.lessee };
    if (lessor !== undefined) fromChain.lessor = lessor;
    if (assetKey !== null) fromChain.assetId = assetKey;
    // The mint carries the lease's own contract and origin; an accept only moves its status.
    if (i.lessor !== undefined) Object.assign(fromChain, { contractAddress: i.contractAddress, blockNumber: i.blockNumber, transactionHash: i.transactionHash });
    if (STATUS_RANK[i.status] > STATUS_RANK[existing.status]) fromChain.status = i.status;
    const diff = differences(before, fromChain);
    if (diff.length > 0) {
      undo.push({ target: 'lease', key, before: toJson(before) });
      await view.setLease(key, { ...before, ...fromChain });
      const handMade = diff.filter((d) => !d.startsWith('status:'));
      if (handMade.length > 0) notes.push(`lease ${key}: the chain (lease token ${i.onchainLeaseTokenId}) overrides the stored record (${handMade.join(', ')})`);
    }
  } else {
    if (assetKey === null || lessor === undefined) {
      // Not skipped: the processor stops here and retries, so a missing asset shows in status.
      throw new StorageError(
        'REFERENCE_NOT_FOUND',
        `lease token ${i.onchainLeaseTokenId}: ${assetKey === null ? `on-chain asset ${onchainAssetId ?? '(unknown offer)'} is not stored` : `the lessor of offer ${i.onchainOfferId ?? '?'} is unknown`}`,
        { details: { onchainLeaseTokenId: i.onchainLeaseTokenId } },
      );
    }
    key = i.onchainLeaseTokenId;
    const agreement: JsonObject = { source: 'chain', onchainLeaseTokenId: i.onchainLeaseTokenId };
    if (i.onchainOfferId !== undefined) agreement['onchainOfferId'] = i.onchainOfferId;
    await view.insertLease({
      leaseId: key,
      assetId: assetKey,
      chainId: i.chainId,
      contractAddress: i.contractAddress,
      lessor,
      lessee: i.lessee,
      agreement,
      status: i.status,
      blockNumber: i.blockNumber,
      transactionHash: i.transactionHash,
    });
    undo.push({ target: 'lease', key, before: null });
  }
  await putLink(view, { chainId: i.chainId, kind: 'lease', onchainId: i.onchainLeaseTokenId, recordKey: key, data: {} }, undo);
  if (i.onchainOfferId !== undefined) {
    const offer = await view.getLink(i.chainId, 'offer', i.onchainOfferId);
    await putLink(view, { chainId: i.chainId, kind: 'offer', onchainId: i.onchainOfferId, recordKey: key, data: offer?.data ?? {} }, undo);
  }
}

function toJson(image: AssetImage | LeaseImage): JsonObject {
  return JSON.parse(JSON.stringify(image)) as JsonObject;
}

function parseLinkKey(key: string): { chainId: number; kind: ChainLinkKind; onchainId: string } {
  const [chainId, kind, onchainId] = key.split('/');
  return { chainId: Number(chainId), kind: kind as ChainLinkKind, onchainId: onchainId ?? '' };
}

/** Restores before-images newest first; what cannot be removed is kept and said in `notes`. */
export async function undoEntries(view: ChainEffectView, entries: readonly UndoEntry[], notes: string[]): Promise<void> {
  for (const entry of [...entries].reverse()) {
    if (entry.target === 'link') {
      const { chainId, kind, onchainId } = parseLinkKey(entry.key);
      if (entry.before === null) await view.deleteLink(chainId, kind, onchainId);
      else await view.setLink({ chainId, kind, onchainId, recordKey: (entry.before['recordKey'] as string | null) ?? null, data: entry.before['data'] as JsonObject });
    } else if (entry.target === 'asset') {
      if (entry.before !== null) await view.setAsset(entry.key, entry.before as unknown as AssetImage);
      else if (!(await view.deleteAsset(entry.key))) notes.push(`asset ${entry.key} was created by an orphaned event but is kept: leases refer to it`);
    } else if (entry.before !== null) {
      await view.setLease(entry.key, entry.before as unknown as LeaseImage);
    } else if (!(await view.deleteLease(entry.key))) {
      // Money moved against it: its record stays, but it is no longer in force.
      const lease = await view.findLease(entry.key);
      if (lease) await view.setLease(entry.key, { ...leaseImage(lease), status: 'terminated' });
      notes.push(`lease ${entry.key} was created by an orphaned event but payments refer to it: kept, terminated`);
    }
  }
}
