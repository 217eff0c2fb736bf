// The layering of docs/architecture.md, enforced: `npm run lint` (and so
// `npm test` and CI) fails when a module imports from a layer above its own.
// Skipping down is allowed; modules of one layer may import each other
// (cycles aside). Type-only imports count: a type is a dependency too.

/** Top to bottom. A module may import from its own layer and any below it. */
const layers = [
  { name: 'scripts', path: '^scripts/' },
  { name: 'cli', path: '^lib/cli/' },
  { name: 'report', path: '^lib/report/' },
  { name: 'engine', path: '^lib/(engine|install|restore)/' },
  { name: 'verify', path: '^lib/verify/' },
  { name: 'plan', path: '^lib/plan/' },
  { name: 'transport', path: '^lib/transport/' },
  // Files through the Storage API: beside the rows' transports, importing none of them.
  { name: 'storage', path: '^lib/storage/', level: 'transport' },
  { name: 'backup', path: '^lib/backup/' },
  { name: 'mask', path: '^lib/mask/' },
  { name: 'catalog', path: '^lib/catalog/' },
  { name: 'connect', path: '^lib/connect/' },
  { name: 'config', path: '^lib/config/' },
  // sql and interrupt beside config: none of the three imports the others' callers.
  { name: 'sql', path: '^lib/sql/', level: 'config' },
  { name: 'interrupt', path: '^lib/interrupt\\.ts$', level: 'config' },
  { name: 'errors', path: '^lib/errors\\.ts$' },
  // Where supasync is installed and how it is run: below everything, like errors.
  { name: 'invocation', path: '^lib/invocation\\.ts$', level: 'errors' },
  // Counts as messages print them, in every layer's.
  { name: 'counts', path: '^lib/counts\\.ts$', level: 'errors' },
  // A few items at a time, for any layer.
  { name: 'in-parallel', path: '^lib/in-parallel\\.ts$', level: 'errors' },
];

const rank = new Map();
for (const layer of layers) rank.set(layer.name, layer.level ? rank.get(layer.level) : rank.size);
const above = (layer) => layers.filter((other) => rank.get(other.name) < rank.get(layer.name));

const upward = layers
  .filter((layer) => above(layer).length > 0)
  .map((layer) => ({
    name: `no-upward-from-${layer.name}`,
    comment: `${layer.path} may not import ${above(layer)
      .map((other) => other.name)
      .join(', ')}: they sit above it in docs/architecture.md's layers`,
    severity: 'error',
    from: { path: layer.path },
    to: { path: above(layer).map((other) => other.path) },
  }));

const layered = layers.filter((layer) => layer.path.startsWith('^lib/')).map((layer) => layer.path);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'lib-imports-no-outside-code',
      comment: 'lib/ is what scripts, tests, the demo and the benchmarks use; it never imports them',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(scripts|tests|bench|demo|stack)/' },
    },
    {
      name: 'lib-module-outside-layers',
      comment: 'every module of lib/ belongs to a layer: add a new folder to `layers` here and to docs/architecture.md',
      severity: 'error',
      from: { path: '^lib/', pathNot: layered },
      to: {},
    },
    {
      name: 'lib-imports-module-outside-layers',
      comment: 'every module of lib/ belongs to a layer: add a new folder to `layers` here and to docs/architecture.md',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/', pathNot: layered },
    },
    {
      name: 'no-circular-in-lib',
      comment: 'modules of lib/ that import each other, directly or round a loop',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lib/', circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` is erased at run time but is a dependency all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
