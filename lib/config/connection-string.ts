// The connection strings users paste from Supabase's dashboard, turned into
// pg's options: URL-encoded passwords, sslmode, the pooler's ?pgbouncer=true,
// and the transaction pooler (port 6543), which cannot carry a sync. libpq's
// own spellings too: ?host= and the other parameters, no host at all
// (postgresql:///db), which is this machine's socket, and its keyword/value
// strings (host=... dbname=...), read as the URL they stand for. And a
// string as it may be printed, without its password.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientConfig } from 'pg';
import { UsageError } from '../errors.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

export interface ConnectionTarget {
  config: ClientConfig;
  /** The Supabase project this string reaches, when it says (db.<ref>.supabase.co or user postgres.<ref>). */
  projectRef?: string;
}

/**
 * A user name or password with a raw `@`, `#`, `/` or `?`: URL parsers and
 * libpq split such a string in different places, and a part of the password
 * can end up read as the host, and printed. Refused before anything parses it;
 * the message shows no part of the value.
 */
export function unencodedCredentialsProblem(variable: string, value: string): string | undefined {
  const rest = value.slice(value.indexOf('://') + 3);
  const at = rest.lastIndexOf('@');
  if (value.indexOf('://') < 0 || at < 0) return undefined;
  // An @ only in a query's value (?options=...@...) is no user name; a ? with
  // no key=value before the @ is a raw ? in the password.
  const query = rest.indexOf('?');
  if (query >= 0 && query < at && !rest.slice(0, query).includes('@') && rest.slice(query, at).includes('=')) return undefined;
  if (!/[@#/?]/.test(rest.slice(0, at))) return undefined;
  return (
    `${variable}: its user name or password holds a character a connection string must URL-encode (@ # / ? as %40 %23 %2F %3F). ` +
    "Encode the password (encodeURIComponent in Node, or the dashboard's copied string, which is encoded), or reset it to one without them."
  );
}

export function parseConnectionString(variable: string, value: string): ConnectionTarget {
  const unencoded = unencodedCredentialsProblem(variable, value);
  if (unencoded) throw new UsageError(unencoded);
  const { url, hostless } = connectionUrl(value);
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new UsageError(
        `${variable}: the ${what} holds a % that does not start URL encoding (%zz is not a character): write a literal % as %25, ` +
          "or URL-encode the whole value (encodeURIComponent, or the dashboard's copy button).",
      );
    }
  };
  // libpq reads ?port= too, where the string names no port.
  const port = Number(url.port || url.searchParams.get('port') || 5432);
  // An IPv6 address comes bracketed in a URL ([2001:db8::1]); pg wants it bare.
  const host = url.searchParams.get('host') || (hostless ? hostOfHostlessString(variable, port) : decode(url.hostname, 'host').replace(/^\[(.*)\]$/, '$1'));
  // libpq reads ?user= and ?password= too, where the string's user part is empty.
  const user = decode(url.username, 'user name') || (url.searchParams.get('user') ?? '');
  // A socket is never Supabase's pooler.
  if (port === 6543 && !hostless) {
    const session = new URL(value);
    session.port = '5432';
    session.password = session.password ? '***' : '';
    session.searchParams.delete('pgbouncer');
    throw new UsageError(
      `${variable} uses port 6543, Supabase's transaction pooler, which drops what a sync relies on between statements ` +
        `(COPY, temporary tables, snapshots, SET). Use the session pooler, the same string on port 5432:\n  ${session.toString()}`,
    );
  }
  const local = LOCAL_HOSTS.has(host) || host.startsWith('/');
  const sslmode = url.searchParams.get('sslmode');
  // libpq's meanings: require encrypts without checking the certificate
  // (Supabase's is signed by its own CA); verify-* check it. Hosts that are
  // not this machine get TLS unless the string says otherwise.
  const ssl: ClientConfig['ssl'] =
    sslmode === 'disable' || (local && (sslmode === null || sslmode === 'prefer' || sslmode === 'allow'))
      ? false
      : sslmode === 'verify-ca' || sslmode === 'verify-full'
        ? { rejectUnauthorized: true }
        : { rejectUnauthorized: false };
  const database = decode(url.pathname.replace(/^\//, ''), 'database name') || url.searchParams.get('dbname') || 'postgres';
  // DNS ignores case and a final dot: DB.<REF>.supabase.co. is the same project, and a protected one.
  const dnsName = host.toLowerCase().replace(/\.$/, '');
  // Supabase's pooler takes <role>.<ref> for any role; elsewhere only postgres.<ref> is read so.
  const pooled = /\.pooler\.supabase\.com$/.test(dnsName) ? /^[^.]+\.([a-z0-9]+)$/ : /^postgres\.([a-z0-9]+)$/;
  const projectRef = /^db\.([a-z0-9]+)\.supabase\.(co|net)$/.exec(dnsName)?.[1] ?? pooled.exec(user.toLowerCase())?.[1];
  // libpq's `options` (-c name=value ...), as a session setting the server takes at connection.
  const options = url.searchParams.get('options');
  return {
    config: {
      host,
      port,
      user,
      password: decode(url.password, 'password') || (url.searchParams.get('password') ?? ''),
      database,
      ssl,
      ...(options ? { options } : {}),
    },
    ...(projectRef ? { projectRef } : {}),
  };
}

/**
 * A connection string as a URL, and whether it names no host. libpq takes
 * postgresql://user@/db and postgresql://:5433/db, which a URL parser refuses
 * for their empty host: it is given one to parse them, and said absent.
 */
export function connectionUrl(value: string): { url: URL; hostless: boolean } {
  const parts = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/is.exec(value);
  const authority = parts?.[2] ?? '';
  const hostAndPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (parts && authority !== '' && /^(:\d*)?$/.test(hostAndPort)) {
    const credentials = authority.slice(0, authority.length - hostAndPort.length);
    return { url: new URL(`${parts[1]}${credentials}${NO_HOST}${hostAndPort}${parts[3]}`), hostless: true };
  }
  const url = new URL(value);
  return { url, hostless: url.hostname === '' };
}

const NO_HOST = 'no-host.invalid';

/** The keywords libpq's connection strings take (PostgreSQL 18's). */
const LIBPQ_KEYWORDS = new Set(
  (
    'host hostaddr port dbname user password passfile require_auth channel_binding connect_timeout client_encoding options ' +
    'application_name fallback_application_name keepalives keepalives_idle keepalives_interval keepalives_count tcp_user_timeout ' +
    'replication gssencmode sslmode sslnegotiation sslcompression sslcert sslkey sslkeylogfile sslpassword sslcertmode sslrootcert sslcrl ' +
    'sslcrldir sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version min_protocol_version max_protocol_version ' +
    'krbsrvname gsslib gssdelegation service target_session_attrs load_balance_hosts oauth_issuer oauth_client_id oauth_client_secret oauth_scope'
  ).split(' '),
);

/**
 * libpq's keyword/value form (`host=db.example.com port=5432 dbname=app user=me password='a b'`, as psql and
 * pg_dump take it) as the URL it stands for, which every other step reads (and prints, without the password);
 * any other value as it is. Values are read as libpq reads them: single-quoted where they hold spaces, with
 * backslash escaping a quote or a backslash. A host that is a directory is a socket (?host=).
 */
export function keywordValueAsUrl(variable: string, value: string): string {
  if (/^postgres(ql)?:\/\//i.test(value) || !/^\s*[a-z_]+\s*=/i.test(value)) return value;
  const settings = new Map<string, string>();
  const text = value.trim();
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at]!)) at += 1;
  };
  while (at < text.length) {
    const keyword = /^[a-z_]+/i.exec(text.slice(at))?.[0];
    if (!keyword) throw new UsageError(`${variable}: a keyword/value connection string holds something that is no keyword at character ${at + 1}.`);
    at += keyword.length;
    skipSpace();
    if (text[at] !== '=') throw new UsageError(`${variable}: "${keyword}" has no "=" after it (a keyword/value connection string is keyword=value ...).`);
    at += 1;
    skipSpace();
    let setting = '';
    const quoted = text[at] === "'";
    if (quoted) at += 1;
    for (; at < text.length; at += 1) {
      const char = text[at]!;
      if (quoted ? char === "'" : /\s/.test(char)) break;
      if (char === '\\') at += 1;
      setting += text[at] ?? '';
    }
    if (quoted) {
      if (text[at] !== "'") throw new UsageError(`${variable}: the value of "${keyword}" opens a quote it does not close.`);
      at += 1;
    }
    // libpq refuses a keyword it does not know; read on, a misspelt dbname would connect to another database.
    if (!LIBPQ_KEYWORDS.has(keyword.toLowerCase())) {
      throw new UsageError(`${variable}: "${keyword}" is not one of libpq's connection keywords (host, port, dbname, user, password, sslmode, options, ...).`);
    }
    settings.set(keyword.toLowerCase(), setting);
    skipSpace();
  }
  const take = (keyword: string) => {
    const setting = settings.get(keyword);
    settings.delete(keyword);
    return setting;
  };
  const hostaddr = take('hostaddr');
  const host = take('host') || hostaddr || '';
  if (host.includes(',')) {
    throw new UsageError(`${variable} names several hosts (${host}): supasync connects to one server; name the primary's.`);
  }
  const port = take('port');
  const user = take('user');
  const password = take('password');
  const database = take('dbname');
  // A directory is a socket's: the URL names no host, and gives it as ?host=, as libpq's URLs do.
  const socket = host.startsWith('/');
  if (socket) settings.set('host', host);
  const credentials = user || password ? `${encodeURIComponent(user ?? '')}${password ? `:${encodeURIComponent(password)}` : ''}@` : '';
  const authority = `${credentials}${socket ? '' : host.includes(':') ? `[${host}]` : host}${port ? `:${port}` : ''}`;
  const query = new URLSearchParams([...settings]).toString();
  return `postgresql://${authority}/${encodeURIComponent(database ?? '')}${query ? `?${query}` : ''}`;
}

/**
 * Where libpq goes for a string that names no host (postgresql:///db): PGHOST,
 * else this machine's socket, in the directory its build looks in (Debian's
 * and Ubuntu's /var/run/postgresql, most others' /tmp). pg would go to
 * localhost over TCP instead, another server where both listen.
 */
function hostOfHostlessString(variable: string, port: number): string {
  if (process.env.PGHOST) return process.env.PGHOST;
  const socketDir = SOCKET_DIRECTORIES.find((dir) => existsSync(join(dir, `.s.PGSQL.${port}`)));
  if (socketDir) return socketDir;
  throw new UsageError(
    `${variable} names no host, which libpq reads as this machine's PostgreSQL socket, and none is listening on port ${port} ` +
      `(${SOCKET_DIRECTORIES.map((dir) => join(dir, `.s.PGSQL.${port}`)).join(', ')}). ` +
      'Name the server: postgresql://user@localhost:5432/db, or its socket directory, postgresql:///db?host=/path/to/dir.',
  );
}

const SOCKET_DIRECTORIES = ['/var/run/postgresql', '/tmp'];

/** The project ref of an API URL like https://<ref>.supabase.co (any case, a port, a final dot). */
export function projectRefOfUrl(url: string): string | undefined {
  try {
    const { protocol, hostname } = new URL(url);
    if (protocol !== 'https:' && protocol !== 'http:') return undefined;
    return /^([a-z0-9]+)\.supabase\.(co|net)$/.exec(hostname.toLowerCase().replace(/\.$/, ''))?.[1];
  } catch {
    return undefined;
  }
}

/** The connection string with its password replaced, safe to print. */
export function redactUrl(dbUrl: string): string {
  try {
    const { url, hostless } = connectionUrl(dbUrl);
    const authority = hostless ? (url.port ? `:${url.port}` : '') : url.host;
    // libpq's ?host= (a socket's directory, most often) says where, as the host would.
    const hostParameter = url.searchParams.get('host');
    return `${url.protocol}//${url.username ? `${url.username}@` : ''}${authority}${url.pathname}${hostParameter ? `?host=${hostParameter}` : ''}`;
  } catch {
    return '<unparseable connection string>';
  }
}
