/** The HTTP API flow on the postgres backend. */
import { describeApiFlow } from './flow.js';
import { postgresBackend } from './support.js';

describeApiFlow(postgresBackend);
