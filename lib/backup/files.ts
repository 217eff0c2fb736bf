// A backup holds staging's rows, personal data included: its directory is
// the running user's alone (0700), and so is every file in it (0600). The
// mode given to mkdir() and open() is masked by the process umask (a umask
// of 000 would leave them open to everyone), so each mode is set again with
// chmod once the file or directory exists.
import { chmod, mkdir, open, rmdir, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export const PRIVATE_DIRECTORY = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * The backups' root, and `.supasync` above it, private when this makes them;
 * left as they are when they exist (the user may have chosen otherwise).
 */
export async function makeBackupRoot(root: string): Promise<void> {
  const first = await mkdir(root, { recursive: true, mode: PRIVATE_DIRECTORY });
  if (!first) return;
  // mkdir() answers the first directory it made: every one from root up to it is ours.
  for (let made = resolve(root); ; made = dirname(made)) {
    await chmod(made, PRIVATE_DIRECTORY);
    if (made === resolve(first) || made === dirname(made)) break;
  }
}

/** A new directory (never one already there: EEXIST) that only the running user may enter. */
export async function makePrivateDirectory(directory: string): Promise<void> {
  await mkdir(directory, { mode: PRIVATE_DIRECTORY });
  try {
    await chmod(directory, PRIVATE_DIRECTORY);
  } catch (error) {
    await rmdir(directory).catch(() => undefined);
    throw error;
  }
}

/** A new file (never one already there) that only the running user may read. */
export async function openPrivateFile(path: string): Promise<FileHandle> {
  const file = await open(path, 'wx', PRIVATE_FILE);
  try {
    await file.chmod(PRIVATE_FILE);
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
  return file;
}

export async function writePrivateFile(path: string, text: string): Promise<void> {
  const file = await openPrivateFile(path);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
}
