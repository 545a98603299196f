/** The HTTP API flow on the pglite backend. */
import { backend } from '../support/backends.js';
import { describeApiFlow } from './flow.js';

describeApiFlow(backend('pglite'));
