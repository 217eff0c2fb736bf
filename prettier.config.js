// Close to how the code was written by hand. printWidth: reformatting the code
// as it stood (2026-12-02) changed 6,435 lines at 100, 3,626 at 120, 2,072 at
// 140, 1,269 at 160, 1,198 at 164 and 1,351 at 180; 160 is the round width
// on that floor.
/** @type {import('prettier').Config} */
export default {
  printWidth: 160,
  singleQuote: true,
  semi: true,
  tabWidth: 2,
  trailingComma: 'all',
};
