// The masking secret, held where nothing can print it. Every masked value is
// derived from an HMAC-SHA256 keyed by it: without the secret the values
// cannot be recomputed from a guess (a dictionary of emails, a phone range),
// and with it the same input gives the same output in every table, column
// and run, which is what keeps masked keys joining.
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { UsageError } from '../errors.ts';

export const MASK_SECRET_VARIABLE = 'SUPASYNC_MASK_SECRET';

/** Below this a secret is guessable offline, and guessing it unmasks every value. */
const MIN_SECRET_LENGTH = 16;

export class MaskKey {
  // A private field: JSON.stringify, console.log and util.inspect never see it.
  readonly #secret: Buffer;

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  /** 32 bytes for `value` under `purpose`: one transformer's values never collide with another's by construction. */
  digest(purpose: string, value: string): Buffer {
    return createHmac('sha256', this.#secret).update(purpose).update('\0').update(value).digest();
  }

  /** `length` hex characters (at most 64) of the digest. */
  hex(purpose: string, value: string, length = 16): string {
    return this.digest(purpose, value).toString('hex').slice(0, length);
  }

  toJSON(): string {
    return '[mask key hidden]';
  }

  [inspect.custom](): string {
    return 'MaskKey [secret hidden]';
  }
}

/** The secret from the environment (.env.local included, once loaded); a masked run without it is refused, never run unmasked. */
export function maskKeyFromEnvironment(env: NodeJS.ProcessEnv = process.env): MaskKey {
  const secret = env[MASK_SECRET_VARIABLE];
  if (!secret?.trim()) {
    throw new UsageError(
      `Masking rules apply to this run (supasync.config.json "mask", "maskPreset" or --mask) but ${MASK_SECRET_VARIABLE} is not set: no row was read or written. ` +
        `Masked values are derived from that secret, so the same production value masks the same way in every table and run. ` +
        `Create one (openssl rand -hex 32), keep it in .env.local or your CI's secrets, never in the repository, and use the same one for every run.`,
    );
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new UsageError(
      `${MASK_SECRET_VARIABLE} is shorter than ${MIN_SECRET_LENGTH} characters: whoever guesses it can recompute every masked value from a list of candidates. ` +
        'Use a random one (openssl rand -hex 32).',
    );
  }
  return new MaskKey(secret);
}
