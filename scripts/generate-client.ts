/** `npm run client:generate`: regenerates src/client/api-types.ts from the routes' schemas. */
import { writeFile } from 'node:fs/promises';
import { CLIENT_TYPES_PATH, clientTypes } from './client-types.js';

await writeFile(CLIENT_TYPES_PATH, await clientTypes());
console.log(`wrote ${CLIENT_TYPES_PATH}`);
