// What a failure to set staging's sequences means, on either path.
import { describeError } from '../errors.ts';

export function describeSequenceFailure(error: unknown): string {
  const described = describeError("Setting staging's sequences after the rows", error);
  if ((error as { code?: string }).code !== '42501') return described;
  return (
    `${described}\nThe role that writes staging (over REST, the owner of supasync's functions) needs UPDATE on every sequence ` +
    "the copied tables draw from. In staging's SQL editor: GRANT UPDATE ON SEQUENCE <schema>.<sequence> TO <role>;"
  );
}
