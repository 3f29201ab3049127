// Import rules checked in `npm test` (scripts/test.mjs): the layering of docs/architecture.md and no import cycles.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'protocol-and-pure-layers-stay-down',
      comment:
        'The protocol layers (qbxml, dataverse) and the pure layers (mapping, codec, config) are used by the processes ' +
        'that run the sync; they never reach up into them, so each can be tested and reused on its own.',
      severity: 'error',
      from: { path: '^src/(qbxml|dataverse|mapping|codec|config)/' },
      to: { path: '^src/(cli|gateway|workflows|activities|sandbox)/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules that import each other cannot be understood, tested or loaded one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
