import { expect, test, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { expandProject, menuEntry, rest, unique } from './fusionpipe';

async function openSidebar(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('fusionpipe-sidebar');
  return page.locator('#fusionpipe-sidebar');
}

function projectIn(panel: Locator, id: string): Locator {
  return panel.locator(`[data-testid="fp-project"][data-id="${id}"]`);
}

function pipelineIn(panel: Locator, id: string): Locator {
  return panel.locator(`[data-testid="fp-pipeline"][data-id="${id}"]`);
}

test('search finds a pipeline by its name and by its id, in any project', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const hay = await api.post('projects', { tag: unique('hay') });
  const other = await api.post('projects', { tag: unique('other') });
  const needleTag = unique('needle');
  const needle = await api.post('pipelines', { project_id: hay.id, tag: needleTag });
  await api.post('pipelines', { project_id: hay.id, tag: unique('straw') });
  await api.post('pipelines', { project_id: other.id, tag: unique('pebble') });

  const panel = await openSidebar(page);
  const search = panel.getByTestId('fp-project-search');
  for (const text of [needleTag, needle.id]) {
    await search.fill(text);
    // Only the project holding it, opened on the one pipeline that matches.
    await expect(panel.getByTestId('fp-project')).toHaveCount(1);
    await expect(projectIn(panel, hay.id)).toBeVisible();
    await expect(panel.getByTestId('fp-pipeline')).toHaveCount(1);
    await expect(pipelineIn(panel, needle.id)).toContainText(needleTag);
  }
  // A project the search opened folds like any other.
  await projectIn(panel, hay.id).getByTestId('fp-project-header').click();
  await expect(panel.getByTestId('fp-pipeline')).toHaveCount(0);
  await search.fill('no-such-thing-anywhere');
  await expect(panel.getByTestId('fp-project-empty')).toHaveText('Nothing matches the search.');
});

test('a project is renamed and given notes from its context menu', async ({ page, request }) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('before') });
  const panel = await openSidebar(page);
  const header = projectIn(panel, project.id).getByTestId('fp-project-header');

  await (await menuEntry(page, header, 'rename')).click();
  const dialog = page.locator('.jp-Dialog');
  const renamed = unique('after');
  await dialog.locator('input').fill(renamed);
  await dialog.getByRole('button', { name: 'Rename' }).click();
  await expect(header).toContainText(renamed);
  expect((await api.get(`projects/${project.id}`)).tag).toBe(renamed);

  await (await menuEntry(page, header, 'notes')).click();
  await dialog.getByTestId('fp-notes-input').fill('first line\nsecond line');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(header).toHaveAttribute('title', 'first line\nsecond line');
  expect((await api.get(`projects/${project.id}`)).notes).toBe('first line\nsecond line');

  // F2 on the focused project renames it too.
  await header.focus();
  await page.keyboard.press('F2');
  await dialog.locator('input').fill(`${renamed}-f2`);
  await page.keyboard.press('Enter');
  await expect(header).toContainText(`${renamed}-f2`);

  // A pipeline made from the menu opens at once, even with the project folded.
  await (await menuEntry(page, header, 'new-pipeline')).click();
  const tag = unique('from-menu');
  await dialog.locator('input').fill(tag);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('tab', { name: tag })).toBeVisible();
  const made = (await api.get(`pipelines?project_id=${project.id}`)).pipelines;
  expect(made.map((p: { tag: string }) => p.tag)).toEqual([tag]);
});

test('the context menu follows the theme and closes on Escape or a click elsewhere', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('menus') });
  const pipeline = await api.post('pipelines', { project_id: project.id, tag: unique('menu-pl') });
  const panel = await openSidebar(page);
  await expandProject(projectIn(panel, project.id));
  const menu = page.getByTestId('fp-context-menu');

  await pipelineIn(panel, pipeline.id).click({ button: 'right' });
  await expect(menu.getByRole('menuitem')).toHaveText([
    'Open',
    /Rename/,
    'Edit notes…',
    'Move to project…',
    'Duplicate…',
    'Export pipeline…',
    'Lock',
    'Merge with…',
    /Delete/,
  ]);
  // Inside the window, next to the pointer, and readable.
  const box = (await menu.boundingBox())!;
  expect(box.width).toBeGreaterThan(150);
  expect(box.x + box.width).toBeLessThanOrEqual(page.viewportSize()!.width);
  await page.screenshot({ path: 'screenshots/sidebar-pipeline-menu.png' });
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);

  // From the keyboard: Shift+F10 opens it on the focused pipeline, arrows move, Enter picks,
  // and Escape gives the focus back to the pipeline.
  await pipelineIn(panel, pipeline.id).focus();
  await page.keyboard.press('Shift+F10');
  await expect(menu.getByTestId('fp-menu-open')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByTestId('fp-menu-rename')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(pipelineIn(panel, pipeline.id)).toBeFocused();
  await page.keyboard.press('Shift+F10');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.locator('.jp-Dialog')).toContainText('Rename pipeline');
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Cancel' }).click();

  const header = projectIn(panel, project.id).getByTestId('fp-project-header');
  await header.click({ button: 'right' });
  await expect(menu.getByRole('menuitem')).toHaveText([
    /Rename/,
    'Edit notes…',
    'New pipeline…',
    'Show lineage graph',
    'Import pipeline…',
    /Delete/,
  ]);
  const lightBackground = await menu.evaluate((e) => getComputedStyle(e).backgroundColor);
  await page.locator('#jp-main-dock-panel').click({ position: { x: 300, y: 300 } });
  await expect(menu).toHaveCount(0);

  await page.theme.setDarkTheme();
  await header.click({ button: 'right' });
  await expect(menu).toBeVisible();
  expect(await menu.evaluate((e) => getComputedStyle(e).backgroundColor)).not.toBe(lightBackground);
  await page.screenshot({ path: 'screenshots/sidebar-project-menu-dark.png' });
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
});

test('a pipeline moves to another project chosen from a list', async ({ page, request }) => {
  const api = rest(request);
  const from = await api.post('projects', { tag: unique('from') });
  const to = await api.post('projects', { tag: unique('to') });
  const pipeline = await api.post('pipelines', { project_id: from.id, tag: unique('mover') });
  const panel = await openSidebar(page);
  await expandProject(projectIn(panel, from.id));

  await (await menuEntry(page, pipelineIn(panel, pipeline.id), 'move')).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label: `${to.tag} (${to.id})` });
  await dialog.getByRole('button', { name: 'Move' }).click();

  await expect(projectIn(panel, from.id).getByTestId('fp-pipeline')).toHaveCount(0);
  await expect(page.locator('.jp-Notification-Toast-success')).toContainText(to.tag);
  expect((await api.get(`pipelines/${pipeline.id}`)).project_id).toBe(to.id);
  await expandProject(projectIn(panel, to.id));
  await expect(pipelineIn(projectIn(panel, to.id), pipeline.id)).toBeVisible();
});

test('duplicating a pipeline adds it to the list and to the lineage graph', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('lineage') });
  const original = await api.post('pipelines', { project_id: project.id, tag: unique('orig') });
  await api.post(`pipelines/${original.id}/nodes`, { tag: 'load' });
  const panel = await openSidebar(page);
  await expandProject(projectIn(panel, project.id));
  const listed = projectIn(panel, project.id).getByTestId('fp-pipeline');

  await (await menuEntry(page, pipelineIn(panel, original.id), 'duplicate')).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('input[type="checkbox"]').check();
  await dialog.getByRole('button', { name: 'Duplicate' }).click();
  await expect(listed).toHaveCount(2);
  const pipelines = (await api.get(`pipelines?project_id=${project.id}`)).pipelines;
  expect(pipelines).toHaveLength(2);
  const copy = pipelines.find((p: { id: string }) => p.id !== original.id);
  expect((await api.get(`pipelines/${copy.id}`)).nodes).toHaveLength(1);

  const header = projectIn(panel, project.id).getByTestId('fp-project-header');
  await (await menuEntry(page, header, 'lineage')).click();
  const lineage = page.locator(`#fusionpipe-lineage-${project.id}`);
  const boxes = lineage.getByTestId('fp-lineage-pipeline');
  await expect(boxes).toHaveCount(2);
  await expect(lineage.locator('.svelte-flow__edge')).toHaveCount(1);
  await expect(lineage.locator('.svelte-flow__edge-label')).toHaveText('duplicate');
  await expect(page.getByRole('tab', { name: `Lineage: ${project.tag}` })).toBeVisible();
  // Laid out by dagre and fitted to the panel: the parent above the copy, both readable.
  const parent = (await boxes.and(lineage.locator(`[data-id="${original.id}"]`)).boundingBox())!;
  const child = (await boxes.and(lineage.locator(`[data-id="${copy.id}"]`)).boundingBox())!;
  expect(parent.width).toBeGreaterThan(120);
  expect(child.y).toBeGreaterThan(parent.y + parent.height);
  await page.screenshot({ path: 'screenshots/sidebar-lineage.png' });

  // Live: a pipeline made elsewhere appears without a reload.
  const merged = await api.post('pipelines/merge', { pipeline_ids: [original.id, copy.id] });
  await expect(boxes).toHaveCount(3);
  const labels = lineage.locator('.svelte-flow__edge-label');
  await expect(labels).toHaveCount(3);
  expect((await labels.allTextContents()).sort()).toEqual(['duplicate', 'merge', 'merge']);
  await page.theme.setDarkTheme();
  await page.screenshot({ path: 'screenshots/sidebar-lineage-dark.png' });

  await boxes.and(lineage.locator(`[data-id="${merged.id}"]`)).dblclick();
  await expect(page.locator(`#fusionpipe-pipeline-${merged.id}`)).toBeVisible();
});

test('locking a pipeline shows a lock and greys out what it refuses', async ({ page, request }) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('locks') });
  const pipeline = await api.post('pipelines', { project_id: project.id, tag: unique('vault') });
  const panel = await openSidebar(page);
  await expandProject(projectIn(panel, project.id));
  const item = pipelineIn(panel, pipeline.id);
  await expect(item.getByTestId('fp-pipeline-locked')).toHaveCount(0);

  await (await menuEntry(page, item, 'lock')).click();
  await expect(item.getByTestId('fp-pipeline-locked')).toBeVisible();
  expect((await api.get(`pipelines/${pipeline.id}`)).locked).toBe(true);
  await page.screenshot({ path: 'screenshots/sidebar-locked.png' });

  const rename = await menuEntry(page, item, 'rename');
  await expect(rename).toHaveAttribute('aria-disabled', 'true');
  await expect(rename).toHaveAttribute('title', 'Not available: unlock it first');
  // Playwright will not click what is aria-disabled: send the click the way a user's would land.
  await rename.dispatchEvent('click');
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);
  await page.keyboard.press('Escape');
  // The Delete key does not ask for a name it would then refuse: it says why at once.
  await item.focus();
  await page.keyboard.press('Delete');
  await expect(page.locator('.jp-Notification-Toast-warning')).toContainText('is locked');
  await expect(page.locator('.jp-Dialog')).toHaveCount(0);

  await (await menuEntry(page, item, 'lock')).click();
  await expect(item.getByTestId('fp-pipeline-locked')).toHaveCount(0);
  expect((await api.get(`pipelines/${pipeline.id}`)).locked).toBe(false);
});

test('pipelines merge from "Merge with…" and from a Ctrl-click selection', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('merging') });
  const made: { id: string; node: string }[] = [];
  for (const name of ['left', 'right', 'third']) {
    const pipeline = await api.post('pipelines', { project_id: project.id, tag: unique(name) });
    const node = await api.post(`pipelines/${pipeline.id}/nodes`, { tag: name });
    made.push({ id: pipeline.id, node: node.id });
  }
  const [left, right, third] = made;
  const panel = await openSidebar(page);
  await expandProject(projectIn(panel, project.id));
  const listed = projectIn(panel, project.id).getByTestId('fp-pipeline');

  await (await menuEntry(page, pipelineIn(panel, left.id), 'merge')).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.locator('input[type="checkbox"]')).toHaveCount(2);
  await dialog.locator('label').filter({ hasText: 'right' }).locator('input').check();
  await page.screenshot({ path: 'screenshots/sidebar-merge-dialog.png' });
  await dialog.getByRole('button', { name: 'Merge' }).click();
  await expect(listed).toHaveCount(4);
  const byMenu = await mergedPipeline(api, project.id, [left.id, right.id, third.id]);
  expect(byMenu.nodes.map((n: { id: string }) => n.id).sort()).toEqual(
    [left.node, right.node].sort(),
  );

  await pipelineIn(panel, right.id).click({ modifiers: ['ControlOrMeta'] });
  await expect(panel.getByTestId('fp-selection')).toContainText('1 pipeline selected');
  await expect(panel.getByTestId('fp-merge-selected')).toBeDisabled();
  await pipelineIn(panel, third.id).click({ modifiers: ['ControlOrMeta'] });
  await expect(pipelineIn(panel, third.id)).toHaveAttribute('aria-pressed', 'true');
  await page.screenshot({ path: 'screenshots/sidebar-selection.png' });
  await page.theme.setDarkTheme();
  await page.screenshot({ path: 'screenshots/sidebar-selection-dark.png' });
  await panel.getByTestId('fp-merge-selected').click();
  await expect(listed).toHaveCount(5);
  await expect(panel.getByTestId('fp-selection')).toHaveCount(0);
  const bySelection = await mergedPipeline(api, project.id, [
    left.id,
    right.id,
    third.id,
    byMenu.id,
  ]);
  expect(bySelection.nodes.map((n: { id: string }) => n.id).sort()).toEqual(
    [right.node, third.node].sort(),
  );
});

/** The one pipeline of the project that is not in `known`, with its graph. */
async function mergedPipeline(api: ReturnType<typeof rest>, projectId: string, known: string[]) {
  const pipelines = (await api.get(`pipelines?project_id=${projectId}`)).pipelines;
  const fresh = pipelines.filter((p: { id: string }) => !known.includes(p.id));
  expect(fresh).toHaveLength(1);
  return api.get(`pipelines/${fresh[0].id}`);
}

test('a pipeline is deleted only when its name is typed', async ({ page, request }) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('deletes') });
  const tag = unique('doomed');
  const pipeline = await api.post('pipelines', { project_id: project.id, tag });
  const panel = await openSidebar(page);
  await expandProject(projectIn(panel, project.id));
  const item = pipelineIn(panel, pipeline.id);
  const dialog = page.locator('.jp-Dialog');

  // The Delete key on the focused pipeline asks the same question as the menu.
  await item.focus();
  await page.keyboard.press('Delete');
  await expect(dialog).toContainText(`Type ${tag} to confirm.`);
  await dialog.getByTestId('fp-confirm-input').fill('doomed');
  await page.screenshot({ path: 'screenshots/sidebar-delete-confirm.png' });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(page.locator('.jp-Notification-Toast-warning')).toContainText('Nothing was deleted');
  await expect(item).toBeVisible();
  expect((await api.call('GET', `pipelines/${pipeline.id}`)).status).toBe(200);

  await (await menuEntry(page, item, 'delete')).click();
  await dialog.getByTestId('fp-confirm-input').fill(tag);
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(item).toHaveCount(0);
  expect((await api.call('GET', `pipelines/${pipeline.id}`)).status).toBe(404);
});

test('a project with pipelines is deleted with them after its name is typed', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('full') });
  const pipelines = [];
  for (const name of ['one', 'two']) {
    pipelines.push(await api.post('pipelines', { project_id: project.id, tag: unique(name) }));
  }
  const panel = await openSidebar(page);
  const header = projectIn(panel, project.id).getByTestId('fp-project-header');
  await (await menuEntry(page, header, 'lineage')).click();
  const lineage = page.locator(`#fusionpipe-lineage-${project.id}`);
  await expect(lineage.getByTestId('fp-lineage-pipeline')).toHaveCount(2);

  await (await menuEntry(page, header, 'delete')).click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('holds 2 pipelines');
  await dialog.getByTestId('fp-confirm-input').fill(project.tag);
  await dialog.getByRole('button', { name: 'Delete' }).click();

  await expect(projectIn(panel, project.id)).toHaveCount(0);
  // Its open lineage tab says so, quietly: a deleted project is no error.
  await expect(lineage.getByTestId('fp-lineage-gone')).toBeVisible();
  await expect(page.locator('.jp-Notification-Toast-error')).toHaveCount(0);
  expect((await api.call('GET', `projects/${project.id}`)).status).toBe(404);
  for (const pipeline of pipelines) {
    expect((await api.call('GET', `pipelines/${pipeline.id}`)).status).toBe(404);
  }
});

test('the palette lists the fusionpipe commands and one opens a pipeline by name', async ({
  page,
  request,
}) => {
  const api = rest(request);
  const project = await api.post('projects', { tag: unique('palette') });
  const tag = unique('by-name');
  const pipeline = await api.post('pipelines', { project_id: project.id, tag });

  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await palette.locator('.lm-CommandPalette-input').fill('fusionpipe');
  for (const label of [
    'fusionpipe: Open sidebar',
    'fusionpipe: New project',
    'fusionpipe: New pipeline',
    'fusionpipe: Open pipeline',
    'fusionpipe: Show lineage of a project',
    'fusionpipe: Refresh projects and pipelines',
  ]) {
    await expect(palette.locator('.lm-CommandPalette-itemLabel', { hasText: label })).toHaveCount(
      1,
    );
  }
  await palette.locator('.lm-CommandPalette-input').fill('fusionpipe: Open pipeline');
  await page.keyboard.press('Enter');
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label: `${tag} (${project.tag})` });
  await dialog.getByRole('button', { name: 'Open' }).click();
  await expect(page.locator(`#fusionpipe-pipeline-${pipeline.id}`)).toBeVisible();
});

test('the launcher cards open the sidebar and make a pipeline in a chosen project', async ({
  page,
  request,
}) => {
  const project = await rest(request).post('projects', { tag: unique('launched') });
  await page.sidebar.close('left');
  await page.menu.clickMenuItem('File>New Launcher');
  // Node kernels are named "fusionpipe: …" too: pick the section titled fusionpipe.
  const title = page.locator('.jp-Launcher-sectionTitle', { hasText: /^fusionpipe$/ });
  // The lab may have opened a launcher of its own, now hidden behind this one.
  const section = page.locator('.jp-Launcher-section').filter({ has: title, visible: true });
  const cards = section.locator('.jp-LauncherCard');
  await expect(cards).toHaveText(['fusionpipe', 'New pipeline', 'New example pipeline']);
  await section.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/sidebar-launcher.png' });
  await cards.first().click();
  await expect(page.locator('#fusionpipe-sidebar')).toBeVisible();

  await page.menu.clickMenuItem('File>New Launcher');
  await cards.nth(1).click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.locator('select').selectOption({ label: `${project.tag} (${project.id})` });
  await dialog.getByRole('button', { name: 'OK' }).click();
  const tag = unique('from-launcher');
  await dialog.locator('input').fill(tag);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('tab', { name: tag })).toBeVisible();
  const made = (await rest(request).get(`pipelines?project_id=${project.id}`)).pipelines;
  expect(made.map((p: { tag: string }) => p.tag)).toEqual([tag]);
  await expect(page.locator(`#fusionpipe-pipeline-${made[0].id}`)).toBeVisible();
});
