// What a report must never hold, whatever a message or a location carried
// into it: the service-role keys, the masking secret and the passwords of
// the connection strings, as the environment holds them. The report is built
// from values that leave these out already (locations are redacted, errors
// never quote a key); this is the second lock, for a report that is meant to
// be uploaded and shared.
const SECRET_VARIABLE = /^(SUPABASE|SUPASYNC)_\w*(KEY|SECRET|PASSWORD|TOKEN)$|^PGPASSWORD$/;
const CONNECTION_STRING = /^SUPABASE_\w+_DB_URL$|^DATABASE_URL$/;
/** Shorter values are no secret worth the name, and replacing them would garble the report's text. */
const MIN_LENGTH = 4;

export const REDACTED = '[redacted]';

export function secretValues(env: NodeJS.ProcessEnv): string[] {
  const found = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_VARIABLE.test(name)) found.add(value.trim());
    if (CONNECTION_STRING.test(name)) for (const secret of connectionSecrets(value.trim())) found.add(secret);
  }
  // Longest first: a secret that holds another is replaced whole.
  return [...found].filter((secret) => secret.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
}

/** The password of a URL or of a key=value connection string, as written and decoded, and the string itself. */
function connectionSecrets(value: string): string[] {
  const secrets = [value];
  const keyword = /(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(value)?.[1];
  if (keyword) secrets.push(keyword, keyword.replace(/^'|'$/g, ''));
  const written = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(value)?.[1];
  if (written) {
    secrets.push(written);
    try {
      secrets.push(decodeURIComponent(written));
    } catch {
      // A password that is not valid percent-encoding is kept as written, above.
    }
  }
  return secrets;
}

/** `value` with every secret replaced, in every string it holds. */
export function withoutSecrets<T>(value: T, secrets: string[]): T {
  if (!secrets.length) return value;
  const clean = (item: unknown): unknown => {
    if (typeof item === 'string') return secrets.reduce((text, secret) => text.split(secret).join(REDACTED), item);
    if (Array.isArray(item)) return item.map(clean);
    if (item && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, clean(inner)]));
    return item;
  };
  return clean(value) as T;
}
