import { expect, test } from '@jupyterlab/galata';

test('the sidebar lists projects and creates one that survives a reload', async ({ page }) => {
  await page.sidebar.openTab('fusionpipe-sidebar');
  const panel = page.locator('#fusionpipe-sidebar');

  await panel.getByTestId('fp-new-project-tag').fill('alpha');
  await panel.getByTestId('fp-new-project').click();
  const project = panel.getByTestId('fp-project').filter({ hasText: 'alpha' });
  await expect(project).toBeVisible();
  await expect(project).toContainText('pr_');

  await panel.getByTestId('fp-new-project-tag').fill('beta');
  await panel.getByTestId('fp-new-project-tag').press('Enter');
  await expect(panel.getByTestId('fp-project').filter({ hasText: 'beta' })).toBeVisible();

  await panel.getByTestId('fp-project-search').fill('alp');
  await expect(panel.getByTestId('fp-project')).toHaveCount(1);
  await panel.getByTestId('fp-project-search').fill('');

  await page.reload();
  await page.sidebar.openTab('fusionpipe-sidebar');
  for (const tag of ['alpha', 'beta']) {
    const listed = page.locator('#fusionpipe-sidebar').getByTestId('fp-project');
    await expect(listed.filter({ hasText: tag })).toBeVisible();
  }
  // Laid out as a person expects: a one-line search box, the list right under it.
  const search = await page
    .locator('#fusionpipe-sidebar')
    .getByTestId('fp-project-search')
    .boundingBox();
  const first = await page
    .locator('#fusionpipe-sidebar')
    .getByTestId('fp-project')
    .first()
    .boundingBox();
  expect(search!.width).toBeGreaterThan(150);
  expect(search!.height).toBeLessThan(40);
  expect(first!.y - (search!.y + search!.height)).toBeLessThan(30);
  await page.screenshot({ path: 'screenshots/sidebar-projects.png' });
});

test('the command palette opens the sidebar', async ({ page }) => {
  await page.keyboard.press('Control+Shift+C');
  await page.locator('.lm-CommandPalette-input').fill('fusionpipe: Open sidebar');
  await page.keyboard.press('Enter');
  await expect(page.locator('#fusionpipe-sidebar')).toBeVisible();
});
