import { expect, test } from '@jupyterlab/galata';

// While the server's database is busy or not reached yet, the REST API answers 503 with
// Retry-After (tests/test_connection_budget.py shows the server does). Here the browser is
// given such answers for the first project listings: the sidebar must say so calmly, ask
// again by itself when told to, and list the projects once the database answers.
test('the sidebar says the database is busy and recovers by itself', async ({ page }) => {
  let busy = true;
  let refused = 0;
  // The lab adds a timestamp to every GET (no caching): `projects?1712345678`.
  await page.route(/\/fusionpipe\/api\/projects(\?\d*)?$/, async (route) => {
    if (route.request().method() === 'GET' && busy) {
      refused += 1;
      await route.fulfill({
        status: 503,
        headers: { 'Retry-After': '1', 'Content-Type': 'application/json' },
        body: JSON.stringify({ message: 'the fusionpipe database is busy; try again' }),
      });
      return;
    }
    await route.continue();
  });
  await page.request.post('/fusionpipe/api/projects', { data: { tag: `busy-${Date.now()}` } });
  // The lab loaded before the route was set: load it again, through it.
  await page.reload();

  await page.sidebar.openTab('fusionpipe-sidebar');
  const panel = page.locator('#fusionpipe-sidebar');
  const banner = panel.getByTestId('fp-database-busy');
  await expect(banner).toHaveText('Database busy, retrying…');
  await expect(panel.getByTestId('fp-project-empty')).toHaveCount(0);
  // No error notification for a busy database: it is a wait, not a failure.
  await expect(page.locator('.Toastify__toast--error')).toHaveCount(0);
  await panel.screenshot({ path: test.info().outputPath('busy.png') });
  // Asked again, as Retry-After said (every second), not once and for all.
  await expect.poll(() => refused, { timeout: 10000 }).toBeGreaterThan(2);

  busy = false;
  await expect(banner).toHaveCount(0, { timeout: 10000 });
  await expect(panel.getByTestId('fp-project').first()).toBeVisible();
});
