/** The HTTP API flow on the pglite backend. */
import { describeApiFlow } from './flow.js';
import { pgliteBackend } from './support.js';

describeApiFlow(pgliteBackend);
