/**
 * The body of an encoder thread (copy-encoders.ts): answers each `{ id, chunk }` with
 * `{ id, encoded }` (encodeChunk) or `{ id, error }` (the error's name, code and message, so the
 * main thread can throw the same StorageError), and says `{ ready: true }` once loaded.
 */
import { parentPort } from 'node:worker_threads';
import { isStorageError } from '../../contract/errors.js';
import { encodeChunk } from './copy-encoding.js';
import type { EncoderReply, EncoderRequest } from './copy-encoders.js';

const port = parentPort;
if (port === null) throw new Error('copy-encoder-thread.ts runs as a worker thread');
port.on('message', ({ id, chunk }: EncoderRequest) => {
  let reply: EncoderReply;
  try {
    reply = { id, encoded: encodeChunk(chunk) };
  } catch (error) {
    reply = {
      id,
      error: isStorageError(error)
        ? { message: error.message, code: error.code, ...(error.field === undefined ? {} : { field: error.field }), ...(error.details === undefined ? {} : { details: error.details }) }
        : { message: error instanceof Error ? error.message : String(error) },
    };
  }
  // The rows are handed over, not copied, unless they sit in Node's shared pool of small buffers.
  const buffer = 'encoded' in reply ? reply.encoded.rows.buffer : undefined;
  port.postMessage(reply, buffer instanceof ArrayBuffer && buffer.byteLength > Buffer.poolSize ? [buffer] : []);
});
port.postMessage({ ready: true });
