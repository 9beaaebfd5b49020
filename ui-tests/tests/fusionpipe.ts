// What the browser tests and the benchmarks share: the fusionpipe REST API for setting up and
// checking, and the panel's commands. Not a spec (Playwright takes only *.spec.ts here, and the
// bench config only *.bench.ts), so it holds no tests.
import { expect, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator, Page } from '@playwright/test';

/** Where the server extension answers. */
export const API = '/fusionpipe/api';

/** A page of the lab: galata's fixture, or one a test opened itself (`browser.newPage()`). */
export type LabPage = Page | IJupyterLabPageFixture;

export interface RestNode {
  id: string;
  tag: string;
  kind: string;
  status: string;
  folder: string;
  locked: boolean;
  group: string | null;
  position: { x: number; y: number };
  /** A mapped node's items counted by status; null when it is not mapped. */
  items: { total: number; completed: number; failed: number } | null;
}

/** A pipeline as `GET pipelines/{id}` answers it. */
export interface RestGraph {
  id: string;
  tag: string;
  nodes: RestNode[];
  edges: { id: string; source: string; target: string; slot: string }[];
  groups: {
    id: string;
    tag: string;
    collapsed: boolean;
    size: { width: number; height: number };
  }[];
}

/** A node to make: its tag, or the fields to post (tag, kind, position). */
export type NodeSpec = string | { tag: string; kind?: string; position?: { x: number; y: number } };

/** Tags are unique: a suffix lets a test run again against the same server and database. */
export const unique = (name: string) => `${name}-${Date.now().toString(36)}`;

/**
 * The REST API through the test's `request`. `get`, `post` and `patch` fail the test unless the
 * answer is 2xx (its text is the failure's message) and return the JSON body, `{}` when there is
 * none (204); `call` returns the status and body of any answer, for the tests that expect an error.
 * With `user`, every call is that user's, a colleague of the browser's (the test server's
 * identity provider reads the header X-Test-User).
 */
export function rest(request: APIRequestContext, user?: string) {
  const headers = user ? { 'X-Test-User': user } : undefined;
  const call = async (method: string, path: string, data?: object) => {
    const response = await request.fetch(`${API}/${path}`, { method, data, headers });
    const text = await response.text();
    return { status: response.status(), body: text ? JSON.parse(text) : undefined };
  };
  const ok = async (method: string, path: string, data?: object) => {
    const response = await request.fetch(`${API}/${path}`, { method, data, headers });
    const text = await response.text();
    expect(response.status(), text).toBeLessThan(300);
    return text ? JSON.parse(text) : {};
  };
  const get = (path: string) => ok('GET', path);
  const post = (path: string, data: object) => ok('POST', path, data);

  /** Waits, a minute at most, until the run's status matches `ends`. */
  const finished = async (runId: string, ends: RegExp = /^completed$/): Promise<void> => {
    await expect
      .poll(async () => (await get(`runs/${runId}`)).status, { timeout: 60000 })
      .toMatch(ends);
  };

  /**
   * Makes `nodes` in the pipeline, in order, then an edge for each [parent, child] pair of
   * indexes into them; returns the nodes as the server made them.
   */
  const addNodes = async (
    pipelineId: string,
    nodes: NodeSpec[],
    edges: [number, number][] = [],
  ) => {
    const made = [];
    for (const node of nodes) {
      const fields = typeof node === 'string' ? { tag: node } : node;
      made.push(await post(`pipelines/${pipelineId}/nodes`, fields));
    }
    for (const [parent, child] of edges) {
      const edge = { source: made[parent].id, target: made[child].id };
      await post(`pipelines/${pipelineId}/edges`, edge);
    }
    return made;
  };

  return {
    call,
    get,
    post,
    patch: (path: string, data: object) => ok('PATCH', path, data),
    graph: (pipelineId: string): Promise<RestGraph> => get(`pipelines/${pipelineId}`),
    pipelines: async (projectId: string): Promise<{ id: string; tag: string }[]> =>
      (await get(`pipelines?project_id=${projectId}`)).pipelines,
    addNodes,

    /** A new project with a new pipeline in it, holding `nodes` and `edges` (see `addNodes`). */
    async newPipeline(
      projectTag: string,
      pipelineTag: string,
      nodes: NodeSpec[] = [],
      edges: [number, number][] = [],
    ) {
      const project = await post('projects', { tag: projectTag });
      const pipeline = await post('pipelines', { project_id: project.id, tag: pipelineTag });
      return { project, pipeline, nodes: await addNodes(pipeline.id, nodes, edges) };
    },

    finished,

    /**
     * Maps the node over a grid of `side` x `side` values (`a` and `b`, 0 to side - 1) and has
     * the server make its items: they exist once a run of the node has begun, which is then
     * cancelled (most items are left to run; a small grid may have run in full).
     */
    async mapGrid(pipelineId: string, nodeId: string, side: number) {
      const values = Array.from({ length: side }, (_, index) => index).join(', ');
      const content = `map:\n  a: [${values}]\n  b: [${values}]\n`;
      const saved = await call('PUT', `nodes/${nodeId}/parameters`, { content });
      expect(saved.status, JSON.stringify(saved.body)).toBe(200);
      const run = await post(`pipelines/${pipelineId}/runs`, { node_ids: [nodeId] });
      const counted = async () => {
        const node = (await get(`pipelines/${pipelineId}`)).nodes.find(
          (found: RestNode) => found.id === nodeId,
        );
        return node?.items?.total ?? 0;
      };
      await expect.poll(counted, { timeout: 60000 }).toBe(side * side);
      // Refused (409) when the run has ended already: nothing left to cancel.
      await call('POST', `runs/${run.id}/cancel`, {});
      await finished(run.id, /^(cancelled|failed|completed)$/);
    },

    /** Runs the whole pipeline and waits until the run's status matches `ends` (completed). */
    async run(pipelineId: string, ends?: RegExp) {
      const run = await post(`pipelines/${pipelineId}/runs`, {});
      await finished(run.id, ends);
      return run;
    },

    /**
     * Writes a node's code/main.py through the lab's contents API, as the lab's editor saves it;
     * `labPath` is the node folder's path in the lab (`lab_path` of `GET nodes/{id}`).
     */
    async writeMain(labPath: string, content: string) {
      const saved = await request.put(`/api/contents/${labPath}/code/main.py`, {
        data: { type: 'file', format: 'text', content },
      });
      expect(saved.status()).toBeLessThan(300);
    },
  };
}

/** Opens the pipeline's tab with the `fusionpipe:open-pipeline` command, as the panel does. */
export function openPipeline(page: LabPage, pipelineId: string): Promise<unknown> {
  return page.evaluate(
    (id) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (window as any).jupyterapp.commands.execute('fusionpipe:open-pipeline', { pipelineId: id }),
    pipelineId,
  );
}

/** Opens the pipeline by a click in the sidebar: first its project, then it. */
export async function openFromSidebar(
  page: IJupyterLabPageFixture,
  project: string,
  pipeline: string | RegExp,
): Promise<void> {
  await page.sidebar.openTab('fusionpipe-sidebar');
  const sidebar = page.locator('#fusionpipe-sidebar');
  await sidebar.getByTestId('fp-project').filter({ hasText: project }).click();
  await sidebar.getByTestId('fp-pipeline').filter({ hasText: pipeline }).click();
}

/** Unfolds a project of the sidebar (`fp-project`) unless it is open, until its pipelines show. */
export async function expandProject(project: Locator): Promise<void> {
  const header = project.getByTestId('fp-project-header');
  if ((await header.getAttribute('aria-expanded')) !== 'true') {
    await header.click();
  }
  await expect(project.getByTestId('fp-pipeline-list')).toBeVisible();
}

/** Right-clicks `target` and returns the entry `fp-menu-{entry}` of the context menu it opened. */
export async function menuEntry(
  page: IJupyterLabPageFixture,
  target: Locator,
  entry: string,
): Promise<Locator> {
  await target.click({ button: 'right' });
  const menu = page.getByTestId('fp-context-menu');
  await expect(menu).toBeVisible();
  return menu.getByTestId(`fp-menu-${entry}`);
}

/** The page's uncaught errors from now on: a test ends with `expect(errors).toEqual([])`. */
export function pageErrors(page: LabPage): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** A node of the canvas as Svelte Flow draws it (its box, which a drag moves). */
export function flowNode(canvas: Locator, id: string): Locator {
  return canvas.locator(`.svelte-flow__node[data-id="${id}"]`);
}

/** Presses the mouse on one point and releases it on another, in small steps like a hand. */
export async function drag(page: IJupyterLabPageFixture, from: Locator, to: Locator) {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

/** Chooses `item` of the canvas's context menu on `target`. */
export async function menu(page: IJupyterLabPageFixture, target: Locator, item: string) {
  await target.click({ button: 'right' });
  const entries = page.getByTestId('fp-context-menu');
  await expect(entries).toBeVisible();
  await entries.getByRole('menuitem', { name: item, exact: false }).first().click();
  await expect(entries).toHaveCount(0);
}
