// The step's answers, at the foot of its card right after the notes. They stay under the
// thumb at the bottom of the screen while the step scrolls, but only while that strip is
// small: with large text or in landscape a sticky strip would hide the step it answers, so
// it then waits in place after the notes.
import { useLayoutEffect, useRef, useState, type ReactNode } from "react";

/** The most of the screen's height a sticky answer strip may cover. */
export const MAX_STICKY_SHARE = 0.25;

export function mayStick(trayHeight: number, viewportHeight: number): boolean {
  return trayHeight > 0 && trayHeight <= viewportHeight * MAX_STICKY_SHARE;
}

export function AnswerTray({ children, sticky = true }: { children: ReactNode; sticky?: boolean }) {
  const tray = useRef<HTMLDivElement>(null);
  const [fits, setFits] = useState(true);
  useLayoutEffect(() => {
    const el = tray.current;
    if (!el || !sticky) return;
    // Sticking does not change the strip's height, so this never flips back and forth.
    const check = () => setFits(mayStick(el.offsetHeight, window.innerHeight));
    check();
    const observer = new ResizeObserver(check);
    observer.observe(el);
    window.addEventListener("resize", check);
    return () => {
      observer.disconnect();
      window.removeEventListener("resize", check);
    };
  }, [sticky]);
  const stuck = sticky && fits;
  return (
    <div
      ref={tray}
      data-testid="answer-tray"
      data-sticky={stuck ? "yes" : "no"}
      className={`${stuck ? "sticky bottom-0 z-10 shadow-[0_-6px_16px_-8px_rgba(15,23,42,0.2)]" : ""} rounded-b-3xl border-t border-slate-200 bg-white/95 p-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] backdrop-blur sm:px-5 dark:border-slate-800 dark:bg-slate-900/95`}
    >
      {children}
    </div>
  );
}
