/**
 * `partitions ensure --days-ahead N | list | move-claims --keep-days N | compact [--keep-days N]
 * [--day YYYY-MM-DD]`: the daily partitions of the payment table and the settlement-hash claims
 * beside it (SQL stores). The service keeps a week of partitions ready, moves claims older than
 * yesterday to the cold table and compacts the days before yesterday by itself; these commands do
 * the same by hand (e.g. before a bulk import, or from cron while the service is down).
 * Exit codes: 0 done; 2 the command could not run (connection, configuration, schema not current).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { adoptDefaultRows, ensurePartitionsAhead, listPaymentPartitions, partitionName, utcDay } from '../../storage/backends/sql/partitions.js';
import type { SqlDriver } from '../../storage/backends/sql/driver.js';
import { CLAIMS_HOT_DAYS, moveClaimsOlderThan } from '../../storage/backends/sql/settlement-hashes.js';
import { COMPACT_AFTER_DAYS, compactClosedPartitions, compactPartitions } from '../../storage/backends/sql/partition-compaction.js';
import { jsonWithAmounts, reportFailure } from '../output.js';
import { addBackendOptions, openDriver, type BackendOptions } from '../store-options.js';

/** A `YYYY-MM-DD` argument, collected when repeated. */
function days(value: string, previous: string[] = []): string[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new InvalidArgumentError('expected a day as YYYY-MM-DD');
  return [...previous, value];
}

/** A day count argument (0 to 3660). */
function dayCount(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) > 3660) throw new InvalidArgumentError('expected an integer from 0 to 3660');
  return Number(value);
}

async function withDriver(command: Command, work: (driver: SqlDriver, options: BackendOptions & Record<string, unknown>) => Promise<void>): Promise<void> {
  const options = command.optsWithGlobals<BackendOptions & Record<string, unknown>>();
  try {
    const driver = await openDriver(options);
    try {
      await work(driver, options);
    } finally {
      await driver.close();
    }
  } catch (error) {
    process.exitCode = reportFailure(error);
  }
}

/** Adds the `partitions` command group to `program`. */
export function registerPartitionsCommands(program: Command): void {
  const partitions = addBackendOptions(program.command('partitions').description('daily partitions of the payment table'));

  partitions
    .command('ensure')
    .description('create the partitions of today (UTC) and the next N days that are missing')
    .option('--days-ahead <n>', 'days after today to prepare', dayCount, 7)
    .option('--from-default', 'also give the rows of past days waiting in the DEFAULT partition their day partitions')
    .action((_args: unknown, command: Command) =>
      withDriver(command, async (driver, options) => {
        // One reading of the clock, so both steps agree on today even across midnight.
        const now = new Date();
        const created = await ensurePartitionsAhead(driver, options['daysAhead'] as number, now);
        if (options['fromDefault'] === true) created.push(...(await adoptDefaultRows(driver, new Date(Date.parse(`${utcDay(now)}T00:00:00Z`)))));
        process.stdout.write(created.length === 0 ? 'every partition already exists\n' : `created ${created.join(', ')}\n`);
      }),
    );

  partitions
    .command('list')
    .description('list the partitions with their row estimates and sizes')
    .option('--json', 'print JSON')
    .action((_args: unknown, command: Command) =>
      withDriver(command, async (driver, options) => {
        const list = await listPaymentPartitions(driver);
        if (options['json'] === true) {
          process.stdout.write(`${jsonWithAmounts(list)}\n`);
          return;
        }
        for (const p of list) {
          const range = p.day === null ? 'DEFAULT (anything outside the day partitions)' : `${p.day}`;
          process.stdout.write(`${p.name.padEnd(28)} ${range.padEnd(46)} ~${p.estimatedRows} rows  ${p.bytes} bytes\n`);
        }
      }),
    );

  partitions
    .command('move-claims')
    .description('move the settlement-hash claims of payments before the UTC day N days ago to the cold claims table')
    .option('--keep-days <n>', 'days before today whose claims stay hot', dayCount, CLAIMS_HOT_DAYS)
    .action((_args: unknown, command: Command) =>
      withDriver(command, async (driver, options) => {
        const move = await moveClaimsOlderThan(driver, options['keepDays'] as number);
        process.stdout.write(`moved ${move.moved} claim(s) of payments before ${move.before.toISOString()} to the cold table\n`);
      }),
    );

  partitions
    .command('compact')
    .description('rewrite day partitions in lease order (those before the UTC day N days ago never compacted, or the --day ones)')
    .option('--keep-days <n>', 'days before today left as they are', dayCount, COMPACT_AFTER_DAYS)
    .option('--day <YYYY-MM-DD>', 'compact this day (again, if it was); repeatable', days)
    .action((_args: unknown, command: Command) =>
      withDriver(command, async (driver, options) => {
        const chosen = options['day'] as string[] | undefined;
        const done =
          chosen === undefined
            ? await compactClosedPartitions(driver, options['keepDays'] as number)
            : await compactPartitions(driver, [...new Set(chosen)].sort().map(partitionName));
        if (done.length === 0) process.stdout.write('nothing to compact\n');
        for (const c of done) process.stdout.write(`compacted ${c.partition}: ${c.payments} payment(s), ${c.changed} written during the copy\n`);
      }),
    );
}
