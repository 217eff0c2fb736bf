// The presets --mask and "maskPreset" accept: apart from the rules' schema,
// which loads zod, so that every command's --help can list them at once.
export const MASK_PRESETS = ['supabase'] as const;
export type MaskPreset = (typeof MASK_PRESETS)[number];
