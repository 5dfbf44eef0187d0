// The import graph Evently keeps (issue 13), checked by `npm run lint:deps` in CI:
//
//   ops                         (scripts, dev stack, benchmarks, test kit: may import anything)
//   actors/<kind>  edge  supervisor   (side by side; none imports another's insides)
//   platform                    (config, logging, transactions, NATS, Postgres, shared Fastify pieces)
//   protocol                    (subjects, schemas, shard function, errors: imports nothing of ours)
//
// An actor kind offers others what they may use directly in one file,
// actors/<kind>/public.ts; the supervisor (to clear what a dead thread left, to
// sweep, to create the first admin) and tests may import that file and nothing
// else of an actor. The supervisor starts an actor's thread by URL
// (supervisor/actor-pool.ts names actors/<kind>/actor.js for platform/actor-thread.ts),
// which is a spawn, not an import. Tests may also import ops/testing; production code may not import ops/.
// Type-only imports count: a circle through types is still a circle.
const TEST = '(^|/)test/|\\.test\\.ts$';
const OURS = '^(protocol|platform|actors|edge|supervisor|ops)/';
const PUBLIC = '^actors/[^/]+/public\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import circles make load order matter and hide which module owns what.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-imports-nothing-of-ours',
      comment: 'The contract is the bottom layer: every process reads it, it reads none of them.',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { path: OURS, pathNot: '^protocol/' },
    },
    {
      name: 'platform-imports-only-protocol',
      comment: 'The platform of all three processes knows the contract, not who runs on it.',
      severity: 'error',
      from: { path: '^platform/', pathNot: TEST },
      to: { path: OURS, pathNot: '^(protocol|platform)/' },
    },
    {
      name: 'no-sibling-actor-imports',
      comment: 'An actor kind reaches another only through protocol/ operations and events.',
      severity: 'error',
      from: { path: '^actors/([^/]+)/', pathNot: TEST },
      to: { path: '^actors/', pathNot: '^actors/$1/' },
    },
    {
      name: 'actor-tests-import-only-public-modules-of-other-actors',
      comment: "A test may read another kind's state (the seat ledger, say) through its public.ts.",
      severity: 'error',
      from: { path: '^actors/([^/]+)/.*(/test/|\\.test\\.ts$)' },
      to: { path: '^actors/', pathNot: ['^actors/$1/', PUBLIC] },
    },
    {
      name: 'actors-import-no-edge-or-supervisor',
      comment: 'Actors sit beside the edge and the supervisor, not above them.',
      severity: 'error',
      from: { path: '^actors/' },
      to: { path: '^(edge|supervisor)/' },
    },
    {
      name: 'edge-imports-no-supervisor',
      severity: 'error',
      from: { path: '^edge/' },
      to: { path: '^supervisor/' },
    },
    {
      name: 'edge-imports-no-actor',
      comment: 'The edge asks actors over NATS (platform/broker.ts); it never runs their code.',
      severity: 'error',
      from: { path: '^edge/', pathNot: TEST },
      to: { path: '^actors/' },
    },
    {
      name: 'supervisor-imports-no-edge',
      comment: 'Fastify pieces both use live in platform/http/; the broker client in platform/.',
      severity: 'error',
      from: { path: '^supervisor/' },
      to: { path: '^edge/' },
    },
    {
      name: 'only-public-modules-of-actors-from-outside',
      comment: "The supervisor and the edge's tests may use an actor's public.ts, never its insides.",
      severity: 'error',
      from: { path: '^(supervisor|edge|platform|protocol)/' },
      to: { path: '^actors/', pathNot: PUBLIC },
    },
    {
      name: 'production-code-imports-no-ops',
      comment: 'ops/ is on top: scripts, the dev stack and the test kit use the system, not the reverse.',
      severity: 'error',
      from: { path: '^(protocol|platform|actors|edge|supervisor)/', pathNot: TEST },
      to: { path: '^ops/' },
    },
    {
      name: 'tests-import-only-ops-testing',
      comment: 'ops/testing is the whole of ops a test outside ops/ may lean on.',
      severity: 'error',
      from: { path: '^(protocol|platform|actors|edge|supervisor)/.*(/test/|\\.test\\.ts$)' },
      to: { path: '^ops/', pathNot: '^ops/testing/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
