/**
 * The lock of src/util/file-lock.ts (the PGlite data directory and the pending payments file
 * take it; their own tests check the CONFLICT each reports): one owner at a time, a dead owner is
 * taken over even when its pid is ours or reused, and of processes racing to take over a stale
 * lock exactly one wins (real child processes running the compiled module).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireFileLock, FileLockError, processStartTime, readLockOwner, type LockOwner } from '../../src/util/file-lock.js';
import { repo } from '../support/service-process.js';

const LINUX = existsSync('/proc/self/stat');

/** The generation files of a lock, by number. */
async function generationsOf(path: string): Promise<string[]> {
  return (await readdir(`${path}.lock`)).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
}

/** The owner record of the highest generation. */
async function topOwner(path: string): Promise<LockOwner> {
  const top = (await generationsOf(path)).at(-1);
  return JSON.parse(await readFile(join(`${path}.lock`, String(top)), 'utf8')) as LockOwner;
}

/** Writes generation `n` of `path`'s lock by hand (what a process that died left behind). */
async function leaveLock(path: string, n: number, owner: LockOwner): Promise<void> {
  await mkdir(`${path}.lock`, { recursive: true });
  await writeFile(join(`${path}.lock`, String(n)), `${JSON.stringify(owner)}\n`);
}

/** The owner record this process writes (taken and released once, so nothing holds it). */
async function ownRecord(path: string): Promise<LockOwner> {
  const release = await acquireFileLock(path);
  const owner = await topOwner(path);
  await release();
  return owner;
}

const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid as number;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'file-lock-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('acquireFileLock', () => {
  it('writes its owner, refuses a second taker naming the owner, and releases', async () => {
    const path = join(root, 'held');
    const release = await acquireFileLock(path);
    expect(await topOwner(path)).toMatchObject({ pid: process.pid, token: expect.any(String) });
    expect(await readLockOwner(path)).toMatchObject({ pid: process.pid });
    expect((await readLockOwner(path))?.releasedAt).toBeUndefined();
    const refused = await acquireFileLock(path).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FileLockError);
    expect((refused as FileLockError).conflict).toMatchObject({ path, lockPath: `${path}.lock`, details: { ownerPid: process.pid } });
    expect((refused as FileLockError).conflict.describe('thing')).toBe(`thing ${path} is in use by process ${process.pid} (lock ${path}.lock)`);
    await release();
    await release();
    expect(await readLockOwner(path)).toMatchObject({ pid: process.pid, releasedAt: expect.any(String) });
    const again = await acquireFileLock(path);
    // Released generations are rewritten, never deleted, and the next one is claimed above them.
    expect(await generationsOf(path)).toEqual(['2']);
    await again();
  });

  it('refuses with the error the caller builds', async () => {
    const path = join(root, 'custom');
    const release = await acquireFileLock(path);
    await expect(acquireFileLock(path, (c) => new RangeError(c.describe('custom thing')))).rejects.toThrow(RangeError);
    await release();
  });

  it('gives exactly one of many concurrent openers in one process the lock', async () => {
    const path = join(root, 'concurrent');
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => acquireFileLock(path)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').every((o) => o.reason instanceof FileLockError)).toBe(true);
    await (won[0] as PromiseFulfilledResult<() => Promise<void>>).value();
  });

  it('takes over the lock of a process that no longer exists', async () => {
    const path = join(root, 'stale');
    const template = await ownRecord(join(root, 'template-stale'));
    await leaveLock(path, 7, { ...template, pid: deadPid(), token: 'dead-process' });
    const release = await acquireFileLock(path);
    expect(await topOwner(path)).toMatchObject({ pid: process.pid });
    expect(await generationsOf(path)).toEqual(['8']);
    await release();
  });

  it('takes over a lock left by a dead process with our own pid (a restart that got the same pid)', async () => {
    const path = join(root, 'own-pid');
    const previous = await ownRecord(join(root, 'template-own'));
    // Our pid, host, boot and start time, but a token this process never held.
    await leaveLock(path, 1, { ...previous, token: 'previous-incarnation' });
    const release = await acquireFileLock(path);
    expect(await topOwner(path)).toMatchObject({ pid: process.pid });
    await release();
  });

  it.runIf(LINUX)('takes over a lock whose pid now belongs to another process (reused pid)', async () => {
    const path = join(root, 'reused');
    const template = await ownRecord(join(root, 'template-reused'));
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      // A live pid whose process started at another time than the one that took the lock.
      await leaveLock(path, 1, { ...template, pid: sleeper.pid as number, startTime: '1', token: 'reused' });
      const release = await acquireFileLock(path);
      await release();
      // The same live pid with its real start time is a live owner.
      await leaveLock(path, 3, { ...template, pid: sleeper.pid as number, startTime: processStartTime(sleeper.pid as number), token: 'live' });
      await expect(acquireFileLock(path)).rejects.toMatchObject({ conflict: { details: { ownerPid: sleeper.pid } } });
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('judges an owner it cannot inspect (another PID namespace or host) by its heartbeat', async () => {
    const path = join(root, 'elsewhere');
    const template = await ownRecord(join(root, 'template-elsewhere'));
    const foreign: LockOwner = { ...template, pid: 1, pidNamespace: 'pid:[1]', host: 'another-container', token: 'foreign' };
    const file = join(`${path}.lock`, '1');
    await leaveLock(path, 1, foreign);
    // Its heartbeat goes on: alive, refused after watching it.
    const beat = setInterval(() => void utimes(file, new Date(), new Date()).catch(() => undefined), 50);
    try {
      await expect(acquireFileLock(path, undefined, { staleMs: 1_500, refreshMs: 100 })).rejects.toMatchObject({ conflict: { details: { ownerPid: 1 } } });
    } finally {
      clearInterval(beat);
    }
    // Its heartbeat stopped (the previous container is gone): taken over once it is staleMs old.
    const started = Date.now();
    const release = await acquireFileLock(path, undefined, { staleMs: 1_500, refreshMs: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await topOwner(path)).toMatchObject({ pid: process.pid });
    // An owner already silent for longer than staleMs is taken over at once.
    await release();
    const old = new Date(Date.now() - 60_000);
    await leaveLock(path, 9, foreign);
    await utimes(join(`${path}.lock`, '9'), old, old);
    const quick = Date.now();
    await (await acquireFileLock(path, undefined, { staleMs: 30_000 }))();
    expect(Date.now() - quick).toBeLessThan(1_000);
  });

  it('keeps its own heartbeat while held', async () => {
    const path = join(root, 'heartbeat');
    const release = await acquireFileLock(path, undefined, { refreshMs: 50 });
    const file = join(`${path}.lock`, (await generationsOf(path))[0] as string);
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { mtimeMs } = await stat(file);
    expect(Date.now() - mtimeMs).toBeLessThan(1_000);
    await release();
  });

  it('reads the earlier lock format: a live owner is respected, a dead one replaced', async () => {
    const live = join(root, 'old-live');
    await writeFile(`${live}.lock`, `${process.ppid}\n`);
    await expect(acquireFileLock(live)).rejects.toMatchObject({ conflict: { details: { ownerPid: process.ppid } } });
    const dead = join(root, 'old-dead');
    await writeFile(`${dead}.lock`, `${deadPid()}\n`);
    await (await acquireFileLock(dead))();
    const mine = join(root, 'old-mine');
    await writeFile(`${mine}.lock`, `${process.pid}\n`); // the earlier format's own-pid crash loop
    await (await acquireFileLock(mine))();
  });
});

/**
 * Each child takes part in every round: at the round's instant it tries to take that round's
 * stale lock, and keeps whatever it won until its stdin closes, so a loser cannot win later by
 * finding the lock released.
 */
const RACER = `
const [moduleUrl, startAt, roundMs, ...paths] = process.argv.slice(1);
const { acquireFileLock } = await import(moduleUrl);
const results = [];
for (const [i, path] of paths.entries()) {
  const at = Number(startAt) + i * Number(roundMs);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
  try {
    await acquireFileLock(path);
    results.push('won');
  } catch (error) {
    results.push(error.name === 'FileLockError' ? 'lost' : 'error: ' + error.message);
  }
}
process.stdout.write(JSON.stringify(results) + '\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

function runRacer(args: string[]): { child: ChildProcess; results: Promise<string[]> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RACER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const results = new Promise<string[]>((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (out.includes('\n')) resolve(JSON.parse(out) as string[]);
    });
    child.once('exit', (code) => reject(new Error(`racer exited ${code}: ${err}`)));
  });
  return { child, results };
}

describe('two or more processes taking over a stale lock at once', () => {
  it('exactly one wins, every round', async () => {
    const moduleUrl = pathToFileURL(join(repo, 'dist/util/file-lock.js')).href;
    const rounds = 12;
    const paths = Array.from({ length: rounds }, (_, i) => join(root, `race-round-${i}`));
    const template = await ownRecord(join(root, 'race-template'));
    for (const [i, path] of paths.entries()) {
      // Half the rounds: a crashed process's lock; the other half: one released normally.
      const owner = i % 2 === 0 ? { ...template, pid: deadPid(), token: `crashed-${i}` } : { ...template, token: `released-${i}`, releasedAt: new Date().toISOString() };
      await leaveLock(path, 1, owner);
    }
    const startAt = Date.now() + 1_500;
    const racers = Array.from({ length: 6 }, () => runRacer([moduleUrl, String(startAt), '150', ...paths]));
    try {
      const results = await Promise.all(racers.map((r) => r.results));
      for (let round = 0; round < rounds; round += 1) {
        const outcomes = results.map((r) => r[round]);
        expect(outcomes.filter((o) => o === 'won'), `round ${round}: ${outcomes.join(', ')}`).toHaveLength(1);
        expect(outcomes.filter((o) => o !== 'won' && o !== 'lost')).toEqual([]);
      }
    } finally {
      for (const { child } of racers) child.stdin?.end();
      for (const { child } of racers) if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
