/**
 * Optional payload encryption, as in Temporal's encryption sample (samples-typescript
 * `encryption/`) and wire-compatible with its Python and Go twins: each payload is serialised whole
 * (metadata included), sealed with AES-256-GCM under a random 12-byte IV, and replaced by a payload
 * with `encoding: binary/encrypted`, `encryption-key-id: <id>` and `data: IV | ciphertext | tag`.
 * The worker, every client and the codec server use it, so the history on the server holds
 * ciphertext where the loop's config, state, results and failure texts were.
 *
 * Keys come from the environment: MTF_ENCRYPTION_KEY (or MTF_ENCRYPTION_KEY_FILE), 32 bytes as
 * base64 or hex; MTF_ENCRYPTION_KEY_ID names it (default mtf-key-1); MTF_ENCRYPTION_OLD_KEYS
 * (`id:key,id:key`) are retired keys, still accepted for reading. No key: no encryption at all.
 *
 * Nothing runs at import time beyond resolving the failure converter's path.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { METADATA_ENCODING_KEY, ValueError, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_ENCRYPTION_KEY_ID = 'encryption-key-id';
export const DEFAULT_KEY_ID = 'mtf-key-1';

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
/** GCM's recommended nonce size; random per payload, so a key may seal ~2^32 payloads safely. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The key id travels in clear in every payload's metadata: a short, plain name, never a secret. */
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Where the failure converter of encrypted loops is, for `DataConverter.failureConverterPath`
 * (the SDK loads it by path, and compiles it into the workflow bundle).
 */
export const ENCODED_FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** A bad key setting. Its message is one line and never holds key material. */
export class EncryptionConfigError extends Error {
  override readonly name = 'EncryptionConfigError';
}

export interface EncryptionKeys {
  /** The key that encrypts; it must be in `keys`. */
  activeKeyId: string;
  /** Every key that may decrypt, by id: the active one and retired ones. */
  keys: ReadonlyMap<string, Buffer>;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly activeKey: Buffer;

  constructor(private readonly keyring: EncryptionKeys) {
    const active = keyring.keys.get(keyring.activeKeyId);
    if (!active) throw new EncryptionConfigError(`the active key "${keyring.activeKeyId}" is not among the keys`);
    for (const [id, key] of keyring.keys) {
      if (key.length !== KEY_BYTES) throw new EncryptionConfigError(`key "${id}" must be ${KEY_BYTES} bytes, not ${key.length}`);
    }
    this.activeKey = active;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return settled(() => payloads.map((payload) => this.encrypt(payload)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return settled(() => payloads.map((payload) => this.decrypt(payload)));
  }

  private encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.activeKey, iv, { authTagLength: TAG_BYTES });
    // The whole payload, metadata included: its encoding must come back with it.
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [METADATA_ENCRYPTION_KEY_ID]: Buffer.from(this.keyring.activeKeyId),
      },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    // Histories from before encryption was turned on, and search attributes, are read as they are.
    if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[METADATA_ENCRYPTION_KEY_ID];
    if (!idBytes) throw new ValueError(`an encrypted payload has no ${METADATA_ENCRYPTION_KEY_ID}: it was not written by this codec`);
    const keyId = Buffer.from(idBytes).toString();
    const key = this.keyring.keys.get(keyId);
    if (!key) {
      throw new ValueError(
        `a payload is encrypted with key id "${keyId}", which this process does not have (it has: ${[...this.keyring.keys.keys()].join(', ')}); ` +
          'set that key as MTF_ENCRYPTION_KEY with MTF_ENCRYPTION_KEY_ID, or list it in MTF_ENCRYPTION_OLD_KEYS',
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new ValueError(`an encrypted payload (key id "${keyId}") is too short to hold an IV and a tag`);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new ValueError(
        `cannot decrypt a payload with key id "${keyId}": the key under that id is a different one, or the payload was altered`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** node:crypto is synchronous; a codec answers with a promise, and a bad payload rejects it rather than throwing. */
function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * A 32-byte key from 64 hex digits or base64 (standard or URL-safe). The message names the
 * variable and never echoes the value: it is a secret even when it is malformed.
 */
export function parseKey(text: string, name: string): Buffer {
  const value = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) key = Buffer.from(value, 'base64');
  if (key?.length !== KEY_BYTES) {
    throw new EncryptionConfigError(
      `${name} must be ${KEY_BYTES} bytes as base64 or 64 hex digits (make one with: openssl rand -base64 32)`,
    );
  }
  return key;
}

function keyId(text: string, name: string): string {
  if (!KEY_ID_PATTERN.test(text))
    throw new EncryptionConfigError(`${name} must be 1-64 letters, digits, dots, dashes or underscores, not "${text}"`);
  return text;
}

/** MTF_ENCRYPTION_KEY, or the contents of MTF_ENCRYPTION_KEY_FILE (a mounted secret); null when neither is set. */
function activeKeyText(env: NodeJS.ProcessEnv): { text: string; name: string } | null {
  const file = env.MTF_ENCRYPTION_KEY_FILE?.trim();
  const inline = env.MTF_ENCRYPTION_KEY?.trim();
  if (file && inline) throw new EncryptionConfigError('set MTF_ENCRYPTION_KEY or MTF_ENCRYPTION_KEY_FILE, not both');
  if (inline) return { text: inline, name: 'MTF_ENCRYPTION_KEY' };
  if (!file) return null;
  try {
    return { text: readFileSync(file, 'utf8'), name: `MTF_ENCRYPTION_KEY_FILE (${file})` };
  } catch (err) {
    throw new EncryptionConfigError(`MTF_ENCRYPTION_KEY_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The keys the environment configures, or undefined when it configures none. Throws {@link EncryptionConfigError}. */
export function encryptionKeysFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionKeys | undefined {
  const active = activeKeyText(env);
  const idText = env.MTF_ENCRYPTION_KEY_ID?.trim();
  const oldText = env.MTF_ENCRYPTION_OLD_KEYS?.trim();
  if (!active) {
    // A key id or old keys without a key would quietly run unencrypted: a mistake worth a line.
    if (idText || oldText)
      throw new EncryptionConfigError(
        'MTF_ENCRYPTION_KEY_ID and MTF_ENCRYPTION_OLD_KEYS need MTF_ENCRYPTION_KEY (or MTF_ENCRYPTION_KEY_FILE)',
      );
    return undefined;
  }
  const activeKeyId = idText ? keyId(idText, 'MTF_ENCRYPTION_KEY_ID') : DEFAULT_KEY_ID;
  const keys = new Map<string, Buffer>();
  for (const entry of (oldText ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new EncryptionConfigError('MTF_ENCRYPTION_OLD_KEYS must be id:key pairs separated by commas');
    const id = keyId(entry.slice(0, colon).trim(), 'a key id in MTF_ENCRYPTION_OLD_KEYS');
    if (keys.has(id) || id === activeKeyId) throw new EncryptionConfigError(`MTF_ENCRYPTION_OLD_KEYS: key id "${id}" is given twice`);
    keys.set(id, parseKey(entry.slice(colon + 1), `MTF_ENCRYPTION_OLD_KEYS (key "${id}")`));
  }
  keys.set(activeKeyId, parseKey(active.text, active.name));
  return { activeKeyId, keys };
}

/**
 * The data converter of encrypted loops: the codec for every payload, and the failure converter
 * that turns failure messages and stack traces into payloads so the codec encrypts them too.
 */
export function encryptedDataConverter(keys: EncryptionKeys): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH };
}

/**
 * A process without the key meets encrypted payloads as the SDK's "Unknown encoding:
 * binary/encrypted"; this says what to do about it. Other messages are returned as they are.
 */
export function withEncryptionHint(message: string): string {
  if (!message.includes(`Unknown encoding: ${ENCRYPTED_ENCODING}`)) return message;
  return `${message}: the loop's payloads are encrypted; set MTF_ENCRYPTION_KEY (and MTF_ENCRYPTION_KEY_ID) to the workers' key to read them`;
}

/** The data converter the environment asks for: undefined without a key, so everything runs as before. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const keys = encryptionKeysFromEnv(env);
  return keys && encryptedDataConverter(keys);
}
