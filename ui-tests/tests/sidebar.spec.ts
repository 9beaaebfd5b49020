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
  const alphaId = (await project.getAttribute('data-id'))!;
  await panel.getByTestId('fp-project-search').fill(alphaId);
  await expect(panel.getByTestId('fp-project')).toHaveText([new RegExp(alphaId)]);
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

  // The panel follows the theme: JupyterLab's own colours, not hard-coded ones.
  const panelColours = () =>
    page
      .locator('#fusionpipe-sidebar > *')
      .first()
      .evaluate((element) => {
        const style = getComputedStyle(element);
        return [style.backgroundColor, style.color];
      });
  const light = await panelColours();
  await page.theme.setDarkTheme();
  expect(await panelColours()).not.toEqual(light);
  await page.screenshot({ path: 'screenshots/sidebar-projects-dark.png' });
});

test('the command palette opens the sidebar', async ({ page }) => {
  await page.keyboard.press('Control+Shift+C');
  await page.locator('.lm-CommandPalette-input').fill('fusionpipe: Open sidebar');
  await page.keyboard.press('Enter');
  await expect(page.locator('#fusionpipe-sidebar')).toBeVisible();
});

test('the command palette creates a project under the name it asks for', async ({ page }) => {
  await page.keyboard.press('Control+Shift+C');
  await page.locator('.lm-CommandPalette-input').fill('fusionpipe: New project');
  await page.keyboard.press('Enter');
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input').fill('from-palette');
  await dialog.getByRole('button', { name: 'Create' }).click();
  const panel = page.locator('#fusionpipe-sidebar');
  await expect(panel.getByTestId('fp-project').filter({ hasText: 'from-palette' })).toBeVisible();
});

test('a refused project is reported in a notification, not added', async ({ page }) => {
  await page.sidebar.openTab('fusionpipe-sidebar');
  const panel = page.locator('#fusionpipe-sidebar');
  await panel.getByTestId('fp-new-project-tag').fill('x'.repeat(201));
  await panel.getByTestId('fp-new-project').click();
  // The server's own 400 message, through JupyterLab's notifications.
  await expect(page.locator('.jp-Notification-Toast-error')).toContainText(
    'tag is longer than 200 characters',
  );
  await expect(panel.getByTestId('fp-project').filter({ hasText: 'xxxxxxxx' })).toHaveCount(0);
  // What was typed stays, so it can be corrected.
  await expect(panel.getByTestId('fp-new-project-tag')).toHaveValue('x'.repeat(201));
});
