// The objects of the REST API, as the server's OpenAPI document defines them: every type here is
// an alias of the types `jlpm gen:api` generates from it (schema.d.ts), so the node JSON, the
// graph, a run... have one home, the server's `handlers/api_schemas.py`.
import type { components, operations } from './schema';

type Schemas = components['schemas'];

/** A project; `may_manage` (whether you may delete it) comes with lists, not in a lineage. */
export type Project = Schemas['Project'] & Partial<Pick<Schemas['ManagedProject'], 'may_manage'>>;
/** A pipeline; `may_manage`: whether you may delete, move, lock or unlock it (absent: unknown). */
export type Pipeline = Schemas['Pipeline'] &
  Partial<Pick<Schemas['ManagedPipeline'], 'may_manage' | 'warnings'>>;

/** Something deleted, kept in the trash until `expires_at` to be restored. */
export type TrashItem = Schemas['TrashItem'];

/** A node as one pipeline's graph holds it. */
export type GraphNode = Schemas['PipelineGraph']['nodes'][number];
export type NodeStatus = GraphNode['status'];
export type NodeKind = GraphNode['kind'];
// Every kind the server knows, each once: a Record over the generated type makes a kind added
// to (or dropped from) the API a compile error here, instead of a list that drifts.
const KIND_ORDER: Record<NodeKind, number> = { python: 0, notebook: 1, matlab: 2, shell: 3 };
/** The node kinds, in the order the panel offers them. */
export const NODE_KINDS = (Object.keys(KIND_ORDER) as NodeKind[]).sort(
  (a, b) => KIND_ORDER[a] - KIND_ORDER[b],
);
export type XY = GraphNode['position'];
export type StaleReason = GraphNode['stale_reasons'][number];
export type LockedBy = NonNullable<GraphNode['locked_by']>;

/** A mapped node's items counted by status; the graph carries only these, never the list. */
export type ItemCounts = NonNullable<GraphNode['items']>;
/** One item of a mapped node: its values, status, last run, exit code and metrics; `folder` is
 * relative to the node folder (`data/shot=30101`). */
export type Item = Schemas['Item'];
/** `GET nodes/{id}/items`: one page of a mapped node's items and how many match in all. */
export type ItemPage = Schemas['ItemPage'];
/** `GET nodes/{id}/metrics`: the values and metrics per item, or per run of the node. */
export type MetricsTable = Schemas['Metrics'];
export type MetricsBy = MetricsTable['by'];
export type MetricsRow = MetricsTable['rows'][number];
/** Which items of a mapped node to list: by status, by a part of their id, one page of them. */
export type ItemQuery = NonNullable<operations['nodeItems']['parameters']['query']>;
/** What a run covers: the whole pipeline (nothing given), the nodes up to `until`, the selected
 * `node_ids`; `items` narrows mapped nodes to some of their items, or to the failed ones. */
export type RunScope = NonNullable<
  operations['startRun']['requestBody']
>['content']['application/json'];

/** `GET nodes/{id}`: a node with the pipelines holding it, its kernel and environment. */
export type NodeDetails = Schemas['NodeDetails'];
/** Which run made a node's outputs, and by whom; `restored_from` when taken from the cache. */
export type MadeBy = NonNullable<NodeDetails['made_by']>;

export type Group = Schemas['Group'];
export type Size = Group['size'];
export type GraphEdge = Schemas['Edge'];
export type PipelineGraph = Schemas['PipelineGraph'];
export type ProjectGraph = Schemas['ProjectGraph'];

/** One execution of a node in a run: a failed node runs again while its `retries` allow. */
export type NodeAttempt = Schemas['NodeAttempt'];
export type RunNode = Schemas['RunNode'];
export type Run = Schemas['Run'];
export type RunWithProgress = Schemas['RunWithProgress'];
/** How far a run has got; `eta_s` is null when earlier runs give nothing to estimate from. */
export type RunProgress = RunWithProgress['progress'];
export type RunPage = Schemas['RunPage'];

export type OutputListing = Schemas['OutputListing'];
export type OutputEntry = OutputListing['entries'][number];
export type OutputKind = OutputEntry['kind'];
export type NodeLog = Schemas['NodeLog'];

/** Old id -> new id of the nodes a copy made. */
export type IdMap = Schemas['IdMap']['id_map'];
export type SavedParameters = Schemas['SavedParameters'];
export type Kill = Schemas['Kill'];
export type WhoAmI = Schemas['WhoAmI'];
/** Your next undo and redo of a graph edit in one pipeline, with their labels ("Undo rename of
 * node 'fit'"); null when there is nothing to undo or redo. */
export type UndoStacks = Schemas['UndoStacks'];
/** What an undo or redo did (`done`), and the stacks after it. */
export type UndoDone = Schemas['UndoDone'];
/** A group's new box in a layout saved with node positions. */
export type GroupBox = { position: XY; size?: Size };
