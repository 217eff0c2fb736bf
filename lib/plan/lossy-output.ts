// Types whose text output keeps fewer digits than their values hold, so
// that a copy through that text (the only one they offer: no binary send)
// arrives rounded, and a comparison of the same text on both sides cannot
// see it. PostGIS's box2d and box3d print each corner's coordinates with 15
// significant digits (the PostGIS lab: -3.1025007305682104 arrived as
// -3.10250073056821, and verify said Perfect). Said before every run.
import { qualifiedName, type Table } from '../catalog/types.ts';

const ROUNDED_BY_OUTPUT: { type: RegExp; why: string; instead: string }[] = [
  {
    type: /^_?box[23]d$/,
    why: 'PostGIS writes a box with 15 significant digits per coordinate',
    instead: 'keep the box as geometry (ST_Envelope), or compute it from one in a generated column',
  },
];

/** A warning per column of these tables whose type's text rounds its values, with the way to keep them exact. */
export function roundedOutputWarnings(tables: readonly Table[]): string[] {
  return tables.flatMap((table) =>
    table.columns
      .filter((column) => !column.generated)
      .flatMap((column) => {
        const rounded = ROUNDED_BY_OUTPUT.find((known) => known.type.test(column.typeName));
        if (!rounded) return [];
        return [
          `${qualifiedName(table)}.${column.name} (${column.type}): ${rounded.why}, and supasync copies it as that text: a value with more digits ` +
            `arrives rounded, and verify, comparing the same text on both sides, cannot see it. To copy it exactly, ${rounded.instead}.`,
        ];
      }),
  );
}
