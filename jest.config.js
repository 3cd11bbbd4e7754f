/** Unit and integration tests. Pulumi programs never run inside jest (its module sandbox breaks
 * closure serialization, pulumi/pulumi#3799): end-to-end tests start them as child processes. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  globalSetup: "<rootDir>/test/harness/global-setup.ts",
  globalTeardown: "<rootDir>/test/harness/global-teardown.ts",
  testTimeout: 120000,
  maxWorkers: 2,
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false } }] },
};
