/**
 * A user of the package: a JavaScript program and a TypeScript module that import it by its name
 * (`asset-leasing-offchain-store`), for test/pack.test.ts (installed from the packed tarball).
 */

/** What {@link CONSUMER_JS} prints. */
export const CONSUMER_JS_OUTPUT = { name: 'Satellite 1', sameId: true, duplicate: 'DUPLICATE', description: 'memory', price: '1', noUrl: 'VALIDATION connectionString' };

/** A user's program: saves an asset in a MockDatabase and reads it back, printing the result. */
export const CONSUMER_JS = `
import { MockDatabase, PostgresDatabase, createDatabase, isStorageError, intervalPrice } from 'asset-leasing-offchain-store';
const db = new MockDatabase();
await db.connect();
const hash = (c) => '0x' + c.repeat(64);
const asset = {
  assetId: 'SAT-1', chainId: 84532, contractAddress: '0x' + '1'.repeat(40), tokenAddress: '0x' + '2'.repeat(40),
  metadata: { name: 'Satellite 1' }, metadataHash: hash('a'), blockNumber: 1, transactionHash: hash('b'),
};
const saved = await db.saveAsset(asset);
const read = await db.getAsset('SAT-1');
let duplicate = '';
try { await db.saveAsset(asset); } catch (error) { duplicate = isStorageError(error) ? error.code : String(error); }
const { description } = await createDatabase({ useMock: true });
await db.disconnect();
let noUrl = '';
try { new PostgresDatabase(undefined); } catch (error) { noUrl = error.code + ' ' + error.field; }
console.log(JSON.stringify({ id: saved.id, name: read.metadata.name, sameId: read.id === saved.id, duplicate, description, price: String(intervalPrice(3600n, 'second', 0)), noUrl }));
`;

/** The same in TypeScript, with mistakes the declarations must catch (@ts-expect-error fails if they do not). */
export const CONSUMER_TS = `
import {
  MockDatabase, PostgresDatabase, createDatabase, migrateData, isStorageError, StorageError,
  type Database, type NewAsset, type StoredAsset, type LeaseStatus, type MigrationReport,
} from 'asset-leasing-offchain-store';

const asset: NewAsset = {
  assetId: 'SAT-1', chainId: 84532, contractAddress: '0x' + '1'.repeat(40), tokenAddress: '0x' + '2'.repeat(40),
  metadata: { name: 'Satellite 1' }, metadataHash: '0x' + 'a'.repeat(64), blockNumber: 1, transactionHash: '0x' + 'b'.repeat(64),
};
// @ts-expect-error chainId is a number
const wrong: NewAsset = { ...asset, chainId: '84532' };
// @ts-expect-error not a lease status
const status: LeaseStatus = 'paused';

export async function main(): Promise<string> {
  const db: Database = new MockDatabase();
  await db.connect();
  const saved: StoredAsset = await db.saveAsset(asset);
  const { db: other } = await createDatabase({ useMock: true });
  // @ts-expect-error getAsset takes the assetId string
  await other.getAsset(42);
  const error: unknown = new StorageError('NOT_FOUND', 'x');
  const code: string = isStorageError(error) ? error.code : '';
  return saved.createdAt.toISOString() + code + String(wrong) + status;
}

// The guide's phase 5 and phase 3, as its readers write them.
export async function swapInProduction(source: MockDatabase): Promise<MigrationReport> {
  const database = new PostgresDatabase(process.env.DATABASE_URL);
  await database.connect();
  // @ts-expect-error a Database, not a connection string
  await migrateData(source, 'postgres://x');
  return migrateData(source, database);
}
`;

/**
 * A strict NodeNext tsconfig for the consumer that also checks the package's declarations
 * (skipLibCheck off). `@types/node` comes from `typeRoots` when given, else from the consumer's
 * node_modules (the package brings it through `@types/pg`).
 */
export function consumerTsconfig(typeRoots?: string): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, exactOptionalPropertyTypes: true,
      noEmit: true, skipLibCheck: false, types: ['node'], ...(typeRoots === undefined ? {} : { typeRoots: [typeRoots] }),
    },
    files: ['consumer.ts'],
  });
}
