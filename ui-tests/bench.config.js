// `python -m benchmarks` runs the browser measures with this: the browser tests' server and
// Chromium, but only the *.bench.ts files (which `jlpm test` never picks up).
const config = require('./playwright.config.js');

module.exports = {
  ...config,
  testDir: './bench',
  testMatch: '*.bench.ts',
  timeout: 600000,
};
