import { describe, expect, it } from "vitest";
import { mayStick } from "./AnswerTray";

describe("mayStick", () => {
  it("pins a strip of answers that leaves three quarters of the screen to the step", () => {
    expect(mayStick(80, 740)).toBe(true);
    expect(mayStick(80, 360)).toBe(true);
  });

  it("lets a tall strip (large text, stacked buttons, landscape) wait after the notes", () => {
    expect(mayStick(330, 740)).toBe(false);
    expect(mayStick(120, 360)).toBe(false);
  });

  it("does not pin a strip not laid out yet", () => {
    expect(mayStick(0, 740)).toBe(false);
  });
});
