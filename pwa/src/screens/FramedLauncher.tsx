// Shown instead of the app in a frame where the browser denies storage (see data/storage.ts),
// e.g. a ConnectWise pod or an Autotask insight in a browser that blocks third-party storage:
// one link opens the same page (a ticket's start link, usually) in a tab of its own, where the
// engineer's sign-in and offline data are.
import { ticketLinkParams } from "./ticketLink";

export function FramedLauncher() {
  const params = location.pathname === "/start" ? ticketLinkParams((n) => new URLSearchParams(location.search).get(n)) : null;
  return (
    <main className="flex min-h-dvh flex-col items-start justify-start gap-3 bg-white p-5 text-slate-900 dark:bg-slate-900 dark:text-white">
      <p className="text-sm font-semibold tracking-wide text-indigo-700 uppercase dark:text-indigo-300">Branchline</p>
      {params?.ticket && <h1 className="text-xl font-semibold wrap-anywhere">Ticket {params.ticket}</h1>}
      {params?.summary && <p className="wrap-anywhere text-slate-600 dark:text-slate-300">{params.summary}</p>}
      <a
        href={location.href}
        target="_blank"
        rel="noopener"
        data-testid="open-in-branchline"
        className="inline-flex min-h-11 items-center rounded-xl bg-indigo-600 px-4 py-2.5 font-semibold text-white hover:bg-indigo-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
      >
        {params ? "Start in Branchline" : "Open in Branchline"}
      </a>
      <p className="text-sm text-slate-600 dark:text-slate-300">
        Opens in a new tab: this browser keeps no data for Branchline inside another site's frame, so your sign-in and offline work live there.
      </p>
    </main>
  );
}
