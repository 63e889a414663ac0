// Arrows that go around the step cards instead of through them. Every arrow leaves its
// answer's dot downwards and enters the next step from above; in between it runs along one
// vertical lane chosen where no card stands (beside the cards it would otherwise cross).

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}
export interface Point {
  x: number;
  y: number;
}

/** How far below the dot and above the target the arrow turns. */
export const TURN = 16;
/** Room kept between a lane and the cards beside it. */
const CLEARANCE = 14;

function crossesH(y: number, xa: number, xb: number, boxes: Box[]): boolean {
  const lo = Math.min(xa, xb);
  const hi = Math.max(xa, xb);
  return boxes.some((b) => y > b.y1 && y < b.y2 && hi > b.x1 && lo < b.x2);
}

function crossesV(x: number, ya: number, yb: number, boxes: Box[], pad: number): boolean {
  const lo = Math.min(ya, yb);
  const hi = Math.max(ya, yb);
  return boxes.some((b) => x > b.x1 - pad && x < b.x2 + pad && hi > b.y1 && lo < b.y2);
}

/** The corners of an arrow from `s` (an answer's dot, at the bottom of its card) to `t`
 * (the top of the next card) that crosses no card in `boxes`: down, across, along a lane,
 * across, down. The shortest such route wins, a straight lane first; null when every lane
 * is blocked (the caller then draws its usual arrow). `lane` spreads arrows that would share
 * a lane a few pixels apart. */
export function routeAround(s: Point, t: Point, boxes: Box[], lane = 0): Point[] | null {
  const y1 = s.y + TURN;
  const y2 = t.y - TURN;
  const spread = (lane % 4) * 5;
  const candidates = new Set<number>([s.x, t.x]);
  for (const b of boxes) {
    candidates.add(b.x1 - CLEARANCE - spread);
    candidates.add(b.x2 + CLEARANCE + spread);
  }
  let best: { x: number; cost: number } | null = null;
  for (const x of candidates) {
    const bends = (x === s.x ? 0 : 2) + (x === t.x ? 0 : 2);
    const cost = Math.abs(x - s.x) + Math.abs(t.x - x) + Math.abs(y2 - y1) + bends * 8;
    if (best && cost >= best.cost) continue;
    if (crossesH(y1, s.x, x, boxes) || crossesH(y2, x, t.x, boxes)) continue;
    if (crossesV(x, y1, y2, boxes, x === s.x || x === t.x ? 0 : CLEARANCE - 2)) continue;
    best = { x, cost };
  }
  if (!best) return null;
  const points = [s, { x: s.x, y: y1 }, { x: best.x, y: y1 }, { x: best.x, y: y2 }, { x: t.x, y: y2 }, t];
  // Drop corners that do not turn, so a straight run is one segment.
  return points.filter((p, i) => {
    if (i === 0 || i === points.length - 1) return true;
    const a = points[i - 1];
    const c = points[i + 1];
    return !((a.x === p.x && p.x === c.x) || (a.y === p.y && p.y === c.y));
  });
}

/** An SVG path through the corners, each corner slightly rounded. */
export function pathOf(points: Point[], radius = 6): string {
  let d = `M ${points[0].x} ${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const [a, p, c] = [points[i - 1], points[i], points[i + 1]];
    const r = Math.min(radius, Math.hypot(p.x - a.x, p.y - a.y) / 2, Math.hypot(c.x - p.x, c.y - p.y) / 2);
    const into = { x: p.x - Math.sign(p.x - a.x) * r, y: p.y - Math.sign(p.y - a.y) * r };
    const out = { x: p.x + Math.sign(c.x - p.x) * r, y: p.y + Math.sign(c.y - p.y) * r };
    d += ` L ${into.x} ${into.y} Q ${p.x} ${p.y} ${out.x} ${out.y}`;
  }
  const last = points[points.length - 1];
  return `${d} L ${last.x} ${last.y}`;
}

/** Where an arrow's label goes: the middle of its longest segment. */
export function labelSpot(points: Point[]): Point {
  let best = { len: -1, at: points[0] };
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    const len = Math.abs(b.x - a.x) + Math.abs(b.y - a.y);
    if (len > best.len) best = { len, at: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
  }
  return best.at;
}
