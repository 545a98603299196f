/** The HTTP API flow on the memory backend. */
import { describeApiFlow } from './flow.js';
import { memoryBackend } from './support.js';

describeApiFlow(memoryBackend);
