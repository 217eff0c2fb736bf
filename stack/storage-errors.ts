// The errors of the Storage stand-in, shaped as Supabase's Storage server
// renders them (supabase/storage, src/internal/errors/codes.ts and
// src/http/error-handler.ts). What a client must know first: the HTTP status
// is 400 for every error but 500, and the status the error means travels as a
// string in the body's `statusCode` ("404", "409", "413", "415", "403", even
// "503"). storage-js reads that into `error.statusCode`, the HTTP one into
// `error.status`.
import type { DatabaseError } from 'pg';

export interface StorageErrorBody {
  statusCode: string;
  code?: string;
  error: string;
  message: string;
}

export class StorageError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: StorageErrorBody,
  ) {
    super(body.message);
  }

  /** Storage's ErrorCode (NoSuchKey, KeyAlreadyExists, ...), when the error has one. */
  get code(): string | undefined {
    return this.body.code;
  }
}

/**
 * An error of Storage's own (StorageBackendError): answered with HTTP 400
 * whatever it means, unless it means 500 (error-handler.ts, userStatusCode).
 * `error` is the older field some errors keep ('not_found', 'Duplicate'); the code otherwise.
 */
function storageError(statusCode: number, code: string, message: string, error: string = code): StorageError {
  return new StorageError(statusCode === 500 ? 500 : 400, { statusCode: String(statusCode), code, error, message });
}

/** What Fastify answers before a route runs (an unknown route, a body that fails the route's schema): the real status, no code. */
function requestError(httpStatus: number, error: string, message: string): StorageError {
  return new StorageError(httpStatus, { statusCode: String(httpStatus), error, message });
}

export const errors = {
  noSuchBucket: () => storageError(404, 'NoSuchBucket', 'Bucket not found', 'Bucket not found'),
  noSuchKey: () => storageError(404, 'NoSuchKey', 'Object not found', 'not_found'),
  bucketAlreadyExists: () => storageError(409, 'BucketAlreadyExists', 'The resource already exists', 'Duplicate'),
  keyAlreadyExists: () => storageError(409, 'KeyAlreadyExists', 'The resource already exists', 'Duplicate'),
  resourceAlreadyExists: () => storageError(409, 'ResourceAlreadyExists', 'The resource already exists', 'Duplicate'),
  bucketNotEmpty: () => storageError(409, 'ResourceNotEmpty', 'The bucket you tried to delete is not empty'),
  accessDenied: (message: string) => storageError(403, 'AccessDenied', message, 'Unauthorized'),
  entityTooLarge: () => storageError(413, 'EntityTooLarge', 'The object exceeded the maximum allowed size', 'Payload too large'),
  invalidMimeType: (mimeType: string) => storageError(415, 'InvalidMimeType', `mime type ${mimeType} is not supported`, 'invalid_mime_type'),
  invalidKey: (key: string) => storageError(400, 'InvalidKey', `Invalid key: ${key}`),
  invalidBucketName: () => storageError(400, 'InvalidBucketName', 'Bucket name invalid', 'Invalid Input'),
  invalidFileSizeLimit: () => storageError(400, 'InvalidRequest', 'Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B'),
  relatedResourceNotFound: () => storageError(404, 'InvalidRequest', 'The related resource does not exist'),
  database: (message: string) => storageError(500, 'DatabaseError', message),
  /** Anything else that fails (StorageBackendError.fromError). */
  internal: (error: unknown) =>
    storageError(500, 'InternalError', error instanceof Error ? error.message : String(error), error instanceof Error ? error.name : 'Internal'),
  /** The renderer's answer when the row exists but the stored file does not (renderer.ts): no code. */
  fileNotFound: () => new StorageError(400, { statusCode: '404', error: 'Not found', message: 'The resource was not found' }),
  badRequest: (message: string) => requestError(400, 'Bad Request', message),
  routeNotFound: (method: string, path: string) => requestError(404, 'Not Found', `Route ${method}:${path} not found`),
};

/** Storage's DBError.fromDBError: the PostgreSQL error codes it turns into its own. */
export function fromDatabaseError(error: DatabaseError): StorageError {
  switch (error.code) {
    case '42501':
      return errors.accessDenied('new row violates row-level security policy');
    case '23505':
      return errors.resourceAlreadyExists();
    case '23503':
      return errors.relatedResourceNotFound();
    default:
      return errors.database(error.message);
  }
}

export function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as DatabaseError).code === 'string' && 'severity' in error;
}
