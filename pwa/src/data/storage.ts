// This page's localStorage, or null where the browser denies it. A browser that blocks
// third-party storage throws on the first touch of `localStorage` (and refuses IndexedDB and
// the service worker) in a frame of another site, such as a PSA's pod showing the start link:
// there Branchline cannot keep a sign-in or work offline, so main.tsx offers to open the
// link in a tab of its own instead of starting the app.
export const pageStorage: Storage | null = (() => {
  try {
    const s = window.localStorage;
    void s.length;
    return s;
  } catch {
    return null;
  }
})();
