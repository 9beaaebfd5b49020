// Galata's Playwright setup, driving Debian's Chromium (no browser download is possible here)
// against a real `jupyter lab` started from jupyter_server_test_config.py.
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// Another port lets two checkouts on one machine run their browser tests at the same time.
const port = process.env.FUSIONPIPE_UI_PORT || '8888';
const baseURL = `http://localhost:${port}`;

module.exports = {
  ...baseConfig,
  timeout: 120000,
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    ...baseConfig.use,
    baseURL,
    // Video needs Playwright's own ffmpeg download, which cannot be fetched here.
    video: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: 'jlpm start',
    env: { FUSIONPIPE_UI_PORT: port },
    url: `${baseURL}/lab`,
    timeout: 120000,
    reuseExistingServer: false,
    // Playwright's default is SIGKILL, which leaves the embedded PostgreSQL running forever:
    // SIGTERM lets jupyter stop its extensions, and with them the database.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 20000 },
  },
};
