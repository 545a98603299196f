/**
 * Turning off V8's allocation-site pretenuring for the process: what keeps small reads fast after
 * a large one.
 *
 * V8 watches the objects each object or array literal allocates; when nearly all of them survive
 * a young-generation collection, it allocates that literal's objects straight in the old
 * generation from then on ("pretenuring"). The driver's row parsing trips this: while a query
 * returning tens of thousands of rows is parsed (a status page, an export, a bulk import), every
 * row built so far is alive, so its allocation sites are judged long-lived. After that, every
 * small read's rows are born old. They die at once, but an old object is only freed by a full
 * collection, and until then it keeps the young strings it points to alive: each scavenge copies
 * and promotes them. In the read benchmark, after loading 1M events, `getUnprocessedEvents(100)`
 * spent ten times as long in GC (scavenges of 10-24 ms instead of 1-3 ms) and its p99 went from
 * 4.4 to 14 ms (docs/performance.md, "The read tail").
 *
 * The flag is process-wide, so the library never sets it by itself: the service sets it when it
 * starts, and an application embedding the data layer can call this once at startup.
 */
import { setFlagsFromString } from 'node:v8';

let disabled = false;

/**
 * Turns V8's allocation-site pretenuring off for this process (`--no-allocation-site-pretenuring`,
 * applied at run time); idempotent. Decisions V8 already made are dropped at its next collection,
 * so calling it late still helps. Returns whether this call changed the setting.
 */
export function disableAllocationSitePretenuring(): boolean {
  if (disabled) return false;
  setFlagsFromString('--no-allocation-site-pretenuring');
  disabled = true;
  return true;
}

/** Whether {@link disableAllocationSitePretenuring} has run in this process. */
export function allocationSitePretenuringDisabled(): boolean {
  return disabled;
}
