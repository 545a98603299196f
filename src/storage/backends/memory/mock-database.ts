/**
 * MockDatabase: the storage contract in memory, for development and tests (the guide's name).
 * It is the core {@link Store} over a {@link MemoryBackend}: the same validation, lifecycle and
 * paging as the SQL backends, with indexed reads and copies on every read.
 */
import { Store, type StoreOptions } from '../../core/store.js';
import { MemoryBackend } from './memory-backend.js';

/** The in-memory backend. Data lives as long as the instance; `disconnect()` keeps it. */
export class MockDatabase extends Store {
  constructor(options: StoreOptions = {}) {
    super(new MemoryBackend(), options);
  }
}
