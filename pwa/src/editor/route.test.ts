import { describe, expect, it } from "vitest";
import { labelSpot, pathOf, routeAround, type Box, type Point } from "./route";

const card = (x: number, y: number): Box => ({ x1: x, y1: y, x2: x + 240, y2: y + 96 });

function crosses(points: Point[], boxes: Box[]): boolean {
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    for (let k = 1; k < 50; k++) {
      const x = a.x + ((b.x - a.x) * k) / 50;
      const y = a.y + ((b.y - a.y) * k) / 50;
      if (boxes.some((c) => x > c.x1 && x < c.x2 && y > c.y1 && y < c.y2)) return true;
    }
  }
  return false;
}

describe("routeAround", () => {
  it("goes straight down when nothing is in the way", () => {
    const route = routeAround({ x: 120, y: 96 }, { x: 120, y: 200 }, [card(0, 0), card(0, 200)]);
    expect(route).toEqual([{ x: 120, y: 96 }, { x: 120, y: 200 }]);
  });

  it("steps around a card between the two", () => {
    const boxes = [card(0, 0), card(0, 180), card(0, 360)];
    const route = routeAround({ x: 120, y: 96 }, { x: 120, y: 360 }, boxes)!;
    expect(crosses(route, boxes)).toBe(false);
    expect(route.some((p) => p.x < 0 || p.x > 240)).toBe(true);
  });

  it("takes an arrow back up beside the cards, also to its own card", () => {
    const boxes = [card(0, 0), card(0, 180)];
    const back = routeAround({ x: 60, y: 276 }, { x: 120, y: 0 }, boxes)!;
    expect(crosses(back, boxes)).toBe(false);
    const self = routeAround({ x: 180, y: 96 }, { x: 120, y: 0 }, [card(0, 0)])!;
    expect(crosses(self, [card(0, 0)])).toBe(false);
    expect(self[0]).toEqual({ x: 180, y: 96 });
    expect(self[self.length - 1]).toEqual({ x: 120, y: 0 });
  });

  it("spreads arrows that share a lane", () => {
    const boxes = [card(0, 0), card(0, 180), card(0, 360)];
    const a = routeAround({ x: 120, y: 96 }, { x: 120, y: 360 }, boxes, 0)!;
    const b = routeAround({ x: 120, y: 96 }, { x: 120, y: 360 }, boxes, 1)!;
    expect(a[2].x).not.toBe(b[2].x);
  });
});

describe("pathOf and labelSpot", () => {
  it("draws the corners rounded and labels the longest run", () => {
    const pts = [{ x: 0, y: 0 }, { x: 0, y: 20 }, { x: 100, y: 20 }, { x: 100, y: 40 }];
    expect(pathOf(pts)).toBe("M 0 0 L 0 14 Q 0 20 6 20 L 94 20 Q 100 20 100 26 L 100 40");
    expect(labelSpot(pts)).toEqual({ x: 50, y: 20 });
  });
});
