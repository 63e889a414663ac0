// The tree as a graph: one card per node, one edge per answer. Drag from an answer's dot to
// a node to connect it, drag an edge's end to reconnect it, drop into empty space to create
// the next step there.
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  BaseEdge,
  Controls,
  Handle,
  MarkerType,
  MiniMap,
  Position,
  ReactFlow,
  applyNodeChanges,
  getSmoothStepPath,
  useReactFlow,
  type Connection,
  type Edge as FlowEdge,
  type EdgeProps,
  type FinalConnectionState,
  type Node as FlowNode,
  type NodeChange,
  type NodeHandle,
  type NodeProps,
  type OnBeforeDelete,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { Button, Dialog } from "../ui/kit";
import { answersOf, NODE_H, NODE_TYPES, NODE_W, nodeHeight, TYPE_INFO, type NodeType, type TreeDoc, type TreeNode } from "./model";
import { NodeTypeMenuItems } from "./NodeTypeMenuItems";
import { labelSpot, pathOf, routeAround, type Box } from "./route";

export interface StepData extends Record<string, unknown> {
  id: string;
  node: TreeNode;
  isStart: boolean;
  problems: number;
  suggestions: number;
  /** Reviewers' comments on the step in the draft's live publish review. */
  comments: number;
  highlighted: boolean;
}
type StepNode = FlowNode<StepData, "step">;

// Arrows, their labels (on a white chip) and the answer dots; dark enough for 4.5:1 on white.
const ANSWER_COLOR: Record<string, string> = {
  yes: "#047857",
  done: "#047857",
  no: "#be123c",
  failed: "#be123c",
  skipped: "#64748b",
  next: "#0f766e",
};

function answerColor(key: string): string {
  return ANSWER_COLOR[key] || "#7c3aed";
}

// The same colours for an answer's name on its card, lighter on the dark theme's card.
const ANSWER_TEXT: Record<string, string> = {
  yes: "text-emerald-700 dark:text-emerald-400",
  done: "text-emerald-700 dark:text-emerald-400",
  no: "text-rose-700 dark:text-rose-400",
  failed: "text-rose-700 dark:text-rose-400",
  skipped: "text-slate-500 dark:text-slate-400",
  next: "text-teal-700 dark:text-teal-400",
};

const StepCardNode = memo(function StepCardNode({ data, selected }: NodeProps<StepNode>) {
  const { node, id } = data;
  const known = (NODE_TYPES as string[]).includes(node?.type);
  const info = known ? TYPE_INFO[node.type] : null;
  const answers = known ? answersOf(node) : [];
  const title = typeof node?.title === "string" && node.title.trim() ? node.title : "Untitled step";
  // A choice's options are listed in full on the card; its dots carry their numbers, which
  // a column a few pixels wide can show where a long label would be cut.
  const numbered = node?.type === "choice";
  return (
    <div
      data-testid="graph-node"
      data-node-id={id}
      data-problems={data.problems}
      data-suggestions={data.suggestions}
      // React Flow takes the outline off a focused step; the card shows where the keyboard is.
      className={`group relative rounded-2xl border bg-white text-left shadow-sm transition-shadow in-focus-visible:outline-3 in-focus-visible:outline-offset-4 in-focus-visible:outline-indigo-500 dark:bg-slate-900 ${
        selected ? "border-indigo-500 ring-4 ring-indigo-200 dark:ring-indigo-900" : data.problems ? "border-rose-400 ring-2 ring-rose-100 dark:ring-rose-950" : "border-slate-200 dark:border-slate-700"
      } ${data.highlighted ? "ring-4 ring-amber-300" : ""}`}
      style={{ width: NODE_W, minHeight: nodeHeight(node) }}
    >
      <Handle type="target" position={Position.Top} className="!h-3 !w-3 !border-2 !border-white !bg-slate-400" />
      <div className="flex items-center justify-between gap-2 px-3 pt-2.5">
        <span className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-semibold tracking-wide uppercase ${info?.color || "bg-rose-50 text-rose-700"}`}>
          <span className={`h-1.5 w-1.5 rounded-full ${info?.dot || "bg-rose-500"}`} />
          {info?.label || "Unknown"}
        </span>
        <span className="flex items-center gap-1">
          {data.isStart && <span className="rounded-full bg-indigo-600 px-2 py-0.5 text-[10px] font-bold text-white uppercase">Start</span>}
          {data.suggestions > 0 && (
            <span title={`${data.suggestions} suggestion(s) from engineers`} data-testid="suggestion-badge" className="inline-flex items-center gap-0.5 rounded-full bg-amber-100 px-1.5 py-0.5 text-[10px] font-bold text-amber-800">
              <svg viewBox="0 0 20 20" className="h-3 w-3" fill="currentColor" aria-hidden="true">
                <path d="M10 2a6 6 0 0 0-3.5 10.9V14a1 1 0 0 0 1 1h5a1 1 0 0 0 1-1v-1.1A6 6 0 0 0 10 2Zm-2 15a1 1 0 0 0 1 1h2a1 1 0 0 0 1-1v-.5H8v.5Z" />
              </svg>
              {data.suggestions}
            </span>
          )}
          {data.comments > 0 && (
            <span title={`${data.comments} review comment(s)`} data-testid="review-comment-badge" className="inline-flex items-center gap-0.5 rounded-full bg-sky-100 px-1.5 py-0.5 text-[10px] font-bold text-sky-800">
              <svg viewBox="0 0 20 20" className="h-3 w-3" fill="currentColor" aria-hidden="true">
                <path d="M3 4a2 2 0 0 1 2-2h10a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H9l-4 4v-4H5a2 2 0 0 1-2-2V4Z" />
              </svg>
              {data.comments}
            </span>
          )}
          {data.problems > 0 && (
            <span title={`${data.problems} problem(s)`} className="rounded-full bg-rose-600 px-1.5 py-0.5 text-[10px] font-bold text-white">
              {data.problems}
            </span>
          )}
        </span>
      </div>
      <p className="line-clamp-2 px-3 pt-1.5 text-[13.5px] leading-snug font-semibold text-slate-900 dark:text-slate-100">{title}</p>
      <p className={`truncate px-3 pt-0.5 font-mono text-[10.5px] text-slate-500 dark:text-slate-400 ${numbered && answers.length ? "pb-1" : "pb-7"}`}>{id}</p>
      {numbered && answers.length > 0 && (
        <ol className="space-y-0.5 px-3 pb-8 text-[11px] leading-[15px] text-slate-600 dark:text-slate-300">
          {answers.map((a, i) => (
            <li key={a.key} className="flex gap-1.5">
              <span className={`shrink-0 font-mono font-bold ${ANSWER_TEXT[a.key] || "text-violet-600 dark:text-violet-400"}`}>
                {i + 1}
              </span>
              <span data-testid="answer-label" className="min-w-0 break-words">
                {a.label}
              </span>
            </li>
          ))}
        </ol>
      )}
      {answers.length > 0 && (
        <div className="absolute inset-x-0 -bottom-0.5 flex justify-around px-2">
          {answers.map((a, i) => (
            <div key={a.key} className="relative flex flex-col items-center" style={{ width: `${100 / answers.length}%` }}>
              <span className={`max-w-full truncate rounded bg-white/90 px-1 text-[10px] font-semibold dark:bg-slate-900/90 ${ANSWER_TEXT[a.key] || "text-violet-600 dark:text-violet-400"}`}>
                {numbered ? i + 1 : a.label || `#${i + 1}`}
              </span>
              <Handle
                type="source"
                id={a.key}
                position={Position.Bottom}
                title={`Drag to the step that follows "${a.label}"`}
                className="!relative !left-auto !top-1 !h-3.5 !w-3.5 !translate-x-0 !border-2 !border-white"
                style={{ background: a.target ? answerColor(a.key) : "#cbd5e1" }}
              />
            </div>
          ))}
        </div>
      )}
    </div>
  );
});

const nodeTypes = { step: StepCardNode };

interface RoutedData extends Record<string, unknown> {
  boxes: Box[];
  lane: number;
}

/** An arrow routed around the cards (see route.ts); where no lane is free, the usual one. */
function RoutedEdge(props: EdgeProps<FlowEdge<RoutedData>>) {
  const { sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data } = props;
  const routed = useMemo(() => (data ? routeAround({ x: sourceX, y: sourceY }, { x: targetX, y: targetY }, data.boxes, data.lane) : null), [sourceX, sourceY, targetX, targetY, data]);
  let path: string;
  let at: { x: number; y: number };
  if (routed) {
    path = pathOf(routed);
    at = labelSpot(routed);
  } else {
    const [p, x, y] = getSmoothStepPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
    path = p;
    at = { x, y };
  }
  return (
    <BaseEdge
      id={props.id}
      path={path}
      labelX={at.x}
      labelY={at.y}
      label={props.label}
      labelStyle={props.labelStyle}
      labelBgStyle={props.labelBgStyle}
      labelBgPadding={props.labelBgPadding}
      labelBgBorderRadius={props.labelBgBorderRadius}
      style={props.style}
      markerEnd={props.markerEnd}
      interactionWidth={props.interactionWidth}
    />
  );
}

const edgeTypes = { routed: RoutedEdge };
/** One empty list for large trees, so dragging a card there does not rebuild every arrow. */
const NO_BOXES: Box[] = [];

function handlesOf(node: TreeNode): NodeHandle[] {
  const answers = node && typeof node === "object" && (NODE_TYPES as string[]).includes(node.type) ? answersOf(node) : [];
  const out: NodeHandle[] = [{ id: null, type: "target", position: Position.Top, x: NODE_W / 2 - 6, y: -6, width: 12, height: 12 }];
  answers.forEach((a, i) => out.push({ id: a.key, type: "source", position: Position.Bottom, x: ((i + 0.5) * NODE_W) / answers.length - 7, y: nodeHeight(node) - 4, width: 14, height: 14 }));
  return out;
}

/** For large trees, open on the first step at a readable zoom instead of fitting thousands of cards. */
function startViewport(tree: TreeDoc): { x: number; y: number; zoom: number } {
  const zoom = 0.8;
  const start = typeof tree.start === "string" ? tree.nodes[tree.start] : undefined;
  const p = start?.position || { x: 0, y: 0 };
  const width = typeof window !== "undefined" ? Math.max(320, window.innerWidth - 400) : 800;
  return { x: width / 2 - (p.x + NODE_W / 2) * zoom, y: 40 - p.y * zoom, zoom };
}

export interface GraphProps {
  tree: TreeDoc;
  selected: string | null;
  problemCounts: Map<string, number>;
  suggestionCounts: Map<string, number>;
  commentCounts: Map<string, number>;
  highlighted: string | null;
  onSelect: (id: string | null) => void;
  onConnect: (from: string, key: string, to: string | null) => void;
  onMove: (positions: Record<string, { x: number; y: number }>) => void;
  onCreateFrom: (from: string, key: string, type: NodeType, at: { x: number; y: number }) => void;
  onDeleteNodes: (ids: string[]) => void;
  /** Enter on a focused step: open it for editing. */
  onOpen: (id: string) => void;
  focusRequest: { id: string; n: number } | null;
}


/** `built` with each card's measured size from `current`, where React Flow measured it. */
function withMeasured(built: StepNode[], current: StepNode[]): StepNode[] {
  const sizes = new Map(current.filter((n) => n.measured).map((n) => [n.id, n.measured]));
  return built.map((n) => (sizes.has(n.id) ? { ...n, measured: sizes.get(n.id) } : n));
}

export function GraphCanvas(props: GraphProps) {
  const { tree, selected, problemCounts, suggestionCounts, commentCounts, highlighted } = props;
  const big = Object.keys(tree.nodes).length > 300;
  const flow = useReactFlow();
  const built = useMemo<StepNode[]>(
    () =>
      Object.entries(tree.nodes).map(([id, node], i) => ({
        id,
        type: "step",
        position: node && typeof node === "object" && node.position ? { x: node.position.x, y: node.position.y } : { x: (i % 8) * 280, y: Math.floor(i / 8) * 160 },
        data: { id, node, isStart: tree.start === id, problems: problemCounts.get(id) || 0, suggestions: suggestionCounts.get(id) || 0, comments: commentCounts.get(id) || 0, highlighted: highlighted === id },
        selected: selected === id,
        // On large trees, sizes and handle places known up front spare React Flow from
        // drawing every card once just to measure them; cards in view are measured as usual.
        width: big ? NODE_W : undefined,
        height: big ? nodeHeight(node) : undefined,
        handles: big ? handlesOf(node) : undefined,
      })),
    [tree.nodes, tree.start, problemCounts, suggestionCounts, commentCounts, highlighted, selected, big],
  );
  const [nodes, setNodes] = useState<StepNode[]>(built);
  if (!performance.getEntriesByName("editor:graph-render").length) performance.mark("editor:graph-render");
  useLayoutEffect(() => {
    if (!performance.getEntriesByName("editor:graph-commit").length) performance.mark("editor:graph-commit");
  }, []);
  // A new layout replaces the cards React Flow moved, after the commit: replaced while rendering,
  // the cards stayed unmeasured and hidden (tests/browser/test_editor_build_publish.py). Each
  // card keeps the size React Flow measured: React Flow hides a card it holds no size for, and
  // a card whose size did not change gives the ResizeObserver nothing to report, so a rebuilt
  // card (a suggestion dismissed, a problem fixed) could stay hidden. A changed size is
  // measured again as usual.
  useEffect(
    // eslint-disable-next-line react-hooks/set-state-in-effect -- see above
    () => setNodes((current) => withMeasured(built, current)),
    [built],
  );

  // The cards as drawn (measured once React Flow has rendered them), for routing arrows;
  // keyed by their places and sizes, so selecting a card re-routes nothing.
  const placed = big ? "" : nodes.map((n) => `${n.position.x},${n.position.y},${n.measured?.width ?? NODE_W},${n.measured?.height ?? nodeHeight(n.data.node)}`).join(";");
  const boxes = useMemo<Box[]>(
    () =>
      placed
        ? placed.split(";").map((p) => {
            const [x, y, w, h] = p.split(",").map(Number);
            return { x1: x, y1: y, x2: x + w, y2: y + h };
          })
        : NO_BOXES,
    [placed],
  );

  const edges = useMemo<FlowEdge[]>(() => {
    const out: FlowEdge[] = [];
    for (const [id, node] of Object.entries(tree.nodes)) {
      if (!node || typeof node !== "object" || !(NODE_TYPES as string[]).includes(node.type)) continue;
      answersOf(node).forEach((a, i) => {
        if (!a.target || !(a.target in tree.nodes)) return;
        const color = answerColor(a.key);
        out.push({
          id: `${id}|${a.key}`,
          source: id,
          sourceHandle: a.key,
          target: a.target,
          // A choice's arrows carry the option's number, as its dot does.
          label: big ? undefined : node.type === "choice" ? String(i + 1) : a.label,
          reconnectable: true,
          // Large trees keep the cheap arrows: routing looks at every card for every arrow.
          type: big ? "smoothstep" : "routed",
          data: big ? undefined : { boxes, lane: i },
          style: { stroke: color, strokeWidth: 1.75 },
          labelStyle: { fill: color, fontWeight: 600, fontSize: 11 },
          labelBgStyle: { fill: "white" },
          labelBgPadding: [4, 2] as [number, number],
          labelBgBorderRadius: 4,
          markerEnd: { type: MarkerType.ArrowClosed, color, width: 16, height: 16 },
        });
      });
    }
    return out;
  }, [tree.nodes, big, boxes]);

  const onNodesChange = useCallback((changes: NodeChange<StepNode>[]) => {
    setNodes((ns) => applyNodeChanges(changes, ns));
  }, []);

  const [menu, setMenu] = useState<{ from: string; key: string; x: number; y: number; flow: { x: number; y: number } } | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);

  // Deleting steps waits for a yes: a stray Delete or Backspace must not take a step (and
  // every answer leading to it) away. Removing only arrows needs no question.
  const [confirming, setConfirming] = useState<{ nodes: StepNode[]; answer: (ok: boolean) => void } | null>(null);
  const confirmingRef = useRef(false);
  const onBeforeDelete = useCallback<OnBeforeDelete<StepNode, FlowEdge>>(async ({ nodes: doomed }) => {
    if (!doomed.length) return true;
    if (confirmingRef.current) return false;
    confirmingRef.current = true;
    return new Promise<boolean>((resolve) =>
      setConfirming({
        nodes: doomed,
        answer: (ok) => {
          confirmingRef.current = false;
          setConfirming(null);
          resolve(ok);
          // The focused step is gone: keep the keyboard in the graph, on a step that remains.
          if (ok) setTimeout(() => wrapper.current?.querySelector<HTMLElement>(".react-flow__node")?.focus(), 0);
        },
      }),
    );
  }, []);
  const onGraphKey = (e: React.KeyboardEvent) => {
    const id = (e.target as HTMLElement).closest?.(".react-flow__node")?.getAttribute("data-id");
    if (!id || (e.target as HTMLElement).closest("input, textarea, select")) return;
    if (e.key === "Enter") {
      e.preventDefault();
      props.onOpen(id);
    } else if (e.key === "Delete" || e.key === "Backspace") {
      // The focused step, not whatever else is selected: keep React Flow's own key handler out.
      e.preventDefault();
      e.stopPropagation();
      void flow.deleteElements({ nodes: [{ id }] });
    }
  };

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode || !state.fromHandle?.id) return;
      const point = "changedTouches" in event ? event.changedTouches[0] : event;
      // Dropped on a card rather than on its dot: connect to that step.
      const over = document.elementFromPoint(point.clientX, point.clientY)?.closest(".react-flow__node")?.getAttribute("data-id");
      if (over) {
        props.onConnect(state.fromNode.id, state.fromHandle.id, over);
        return;
      }
      const rect = wrapper.current!.getBoundingClientRect();
      setMenu({
        from: state.fromNode.id,
        key: state.fromHandle.id,
        x: point.clientX - rect.left,
        y: point.clientY - rect.top,
        flow: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
      });
    },
    [flow, props],
  );

  useEffect(() => {
    if (!props.focusRequest) return;
    // Where the card is drawn: a step without a saved position still has a place on the graph.
    const at = tree.nodes[props.focusRequest.id]?.position || flow.getNode(props.focusRequest.id)?.position;
    if (at) flow.setCenter(at.x + NODE_W / 2, at.y + NODE_H / 2, { zoom: Math.max(flow.getZoom(), 0.9), duration: 300 });
    // Only a new request moves the view, not every edit of the tree.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.focusRequest]);

  return (
    <div ref={wrapper} className="relative h-full w-full" data-testid="graph" onKeyDown={onGraphKey}>
      <ReactFlow<StepNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onNodeClick={(_, n) => props.onSelect(n.id)}
        onPaneClick={() => {
          props.onSelect(null);
          setMenu(null);
        }}
        onNodeDragStop={(_, _n, dragged) => {
          const pos: Record<string, { x: number; y: number }> = {};
          for (const d of dragged) pos[d.id] = { x: Math.round(d.position.x), y: Math.round(d.position.y) };
          props.onMove(pos);
        }}
        onConnect={(c: Connection) => c.sourceHandle && props.onConnect(c.source, c.sourceHandle, c.target)}
        onConnectEnd={onConnectEnd}
        onReconnect={(old, c) => {
          if (!c.sourceHandle) return;
          if (old.source !== c.source || old.sourceHandle !== c.sourceHandle) props.onConnect(old.source, old.sourceHandle!, null);
          props.onConnect(c.source, c.sourceHandle, c.target);
        }}
        onReconnectEnd={(event, edge, handleType, state) => {
          // Dropped on a card rather than on its dot: the arrow now leads to that step.
          // (`handleType` names the end that stays put: "source" when the arrow's head is moved.)
          if (state.isValid || handleType !== "source" || !edge.sourceHandle) return;
          const point = "changedTouches" in event ? event.changedTouches[0] : event;
          const over = document.elementFromPoint(point.clientX, point.clientY)?.closest(".react-flow__node")?.getAttribute("data-id");
          if (over && over !== edge.target) props.onConnect(edge.source, edge.sourceHandle, over);
        }}
        onEdgesDelete={(es) => es.forEach((e) => e.sourceHandle && props.onConnect(e.source, e.sourceHandle, null))}
        onNodesDelete={(ns) => props.onDeleteNodes(ns.map((n) => n.id))}
        onBeforeDelete={onBeforeDelete}
        deleteKeyCode={["Delete", "Backspace"]}
        onlyRenderVisibleElements={big}
        fitView={!big}
        defaultViewport={big ? startViewport(tree) : undefined}
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        minZoom={0.05}
        maxZoom={1.75}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={24} size={1.2} color="#cbd5e1" />
        <Controls showInteractive={false} position="bottom-left" />
        {!big && <MiniMap pannable zoomable position="bottom-right" className="!hidden md:!block" nodeColor={(n) => ((n.data as StepData).problems ? "#fda4af" : "#c7d2fe")} />}
      </ReactFlow>
      {menu && (
        <div
          role="menu"
          aria-label="Create the next step"
          className="absolute z-20 w-56 rounded-xl border border-slate-200 bg-white p-1.5 shadow-xl dark:border-slate-700 dark:bg-slate-900"
          // eslint-disable-next-line react-hooks/refs -- the menu opens on a click, after the canvas was laid out and measured
          style={{ left: Math.min(menu.x, (wrapper.current?.clientWidth || 400) - 230), top: menu.y }}
        >
          <p className="px-2.5 py-1.5 text-xs font-semibold text-slate-500">Create the next step here</p>
          <NodeTypeMenuItems
            onPick={(t) => {
              props.onCreateFrom(menu.from, menu.key, t, { x: Math.round(menu.flow.x - NODE_W / 2), y: Math.round(menu.flow.y) });
              setMenu(null);
            }}
          />
        </div>
      )}
      {confirming && <ConfirmDelete nodes={confirming.nodes} onAnswer={confirming.answer} />}
    </div>
  );
}

function ConfirmDelete({ nodes, onAnswer }: { nodes: StepNode[]; onAnswer: (ok: boolean) => void }) {
  const only = nodes.length === 1 ? nodes[0].data.node : null;
  const name = only && typeof only.title === "string" && only.title.trim() ? `“${only.title.trim()}”` : nodes.length === 1 ? `step ${nodes[0].id}` : `${nodes.length} steps`;
  return (
    <Dialog
      title={`Delete ${name}?`}
      onClose={() => onAnswer(false)}
      footer={
        <>
          <Button onClick={() => onAnswer(false)} data-autofocus>
            Keep it
          </Button>
          <Button tone="danger" onClick={() => onAnswer(true)} data-testid="confirm-delete-step">
            Delete
          </Button>
        </>
      }
    >
      <p className="text-sm text-slate-600 dark:text-slate-400">Answers that lead to {nodes.length === 1 ? "it" : "them"} will lead nowhere until you connect them again. Ctrl+Z brings {nodes.length === 1 ? "it" : "them"} back.</p>
    </Dialog>
  );
}
