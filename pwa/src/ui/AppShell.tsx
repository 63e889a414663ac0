// The frame around every signed-in screen: top bar with sync status, navigation (a tab bar
// at the bottom on phones), and the "sign in again" notice when the tokens stop working.
import type { ReactNode } from "react";
import { useBrand, useSignIn } from "../data";
import { useLocation } from "../router";
import { Link } from "./kit";
import { SyncStatus } from "./SyncStatus";

// Roles that see a tab; tabs without roles are for everyone. A `spare` tab leaves the phone's
// bottom bar when six would not fit (admins); the editor's home links to it there.
const NAV: { to: string; label: string; icon: string; roles?: string[]; spare?: boolean }[] = [
  { to: "/", label: "Library", icon: "M4 5a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V5Zm10 0a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1h-4a1 1 0 0 1-1-1V5Z" },
  { to: "/history", label: "Sessions", icon: "M12 8v4l3 2m6-2a9 9 0 1 1-18 0 9 9 0 0 1 18 0Z" },
  { to: "/editor", label: "Editor", roles: ["owner", "admin", "author"], icon: "M16.86 4.49l2.65 2.65M4 20l4.24-1.06L19.5 7.68a1.87 1.87 0 0 0-2.65-2.65L5.6 16.29 4 20Z" },
  { to: "/insights", label: "Insights", roles: ["owner", "admin", "author"], spare: true, icon: "M4 20h16M7 16v-5m5 5V7m5 9v-8" },
  { to: "/admin", label: "Team", roles: ["owner", "admin"], icon: "M17 20v-1.5a4.5 4.5 0 0 0-4.5-4.5h-1A4.5 4.5 0 0 0 7 18.5V20M15.5 7.5a3.5 3.5 0 1 1-7 0 3.5 3.5 0 0 1 7 0ZM21 20v-1a3.5 3.5 0 0 0-2.6-3.38M16.5 4.2a3.5 3.5 0 0 1 0 6.6" },
  { to: "/profile", label: "Profile", icon: "M15.75 7a3.75 3.75 0 1 1-7.5 0 3.75 3.75 0 0 1 7.5 0ZM4.5 20.1a7.5 7.5 0 0 1 15 0A17.9 17.9 0 0 1 12 21.75c-2.68 0-5.22-.58-7.5-1.65Z" },
];

function active(path: string, to: string): boolean {
  const p = path.split("?")[0];
  if (to === "/") return p === "/" || p.startsWith("/start/");
  return p.startsWith(to);
}

/** The app's mark, or the tenant's logo and name once its brand is known (white-label). */
export function Logo() {
  const brand = useBrand();
  return (
    <span className="flex items-center gap-2.5">
      {/* The product's square mark keeps its fixed size; a tenant's logo keeps its proportions
          within a width that leaves the bar on one line. */}
      <img src={brand?.logo?.data_url ?? "/icon.svg"} alt="" className={brand?.logo ? "h-8 w-auto max-w-24 object-contain" : "h-8 w-8"} data-testid="brand-logo" />
      {/* The name gives way before the sync badge does: hidden when the screen is narrow for
          the text size (a rem breakpoint grows with the user's font size setting). */}
      <span className="brand-text hidden text-lg font-semibold tracking-tight text-white min-[20rem]:inline" data-testid="brand-name">
        {brand?.name ?? "Branchline"}
      </span>
    </span>
  );
}

export function AppShell({ children, wide = false, focus = false }: { children: ReactNode; wide?: boolean; focus?: boolean }) {
  const path = useLocation();
  const signin = useSignIn();
  const brand = useBrand();
  const nav = NAV.filter((n) => !n.roles || (signin && n.roles.includes(signin.account.role)));
  const bar = nav.length > 5 ? nav.filter((n) => !n.spare) : nav;
  const cols = { 3: "grid-cols-3", 4: "grid-cols-4", 5: "grid-cols-5" }[bar.length] ?? "grid-cols-5";
  return (
    <div className={`min-h-dvh bg-slate-50 text-slate-800 sm:pb-0 print:bg-white print:pb-0 print:text-black ${focus ? "pb-4" : "pb-20"} dark:bg-slate-950 dark:text-slate-100`}>
      <header className="brand-bar sticky top-0 z-30 bg-slate-900 print:hidden pt-[env(safe-area-inset-top)] shadow-md short:static">
        <div className={`mx-auto flex min-h-14 flex-wrap items-center justify-between gap-x-2 px-3 sm:px-6 ${wide ? "max-w-6xl" : "max-w-5xl"}`}>
          <Link to="/" className="shrink-0 rounded-lg px-1" aria-label={brand?.name ?? "Branchline"}>
            <Logo />
          </Link>
          <nav className="hidden items-center gap-1 sm:flex" aria-label="Main">
            {nav.map((n) => (
              <Link
                key={n.to}
                to={n.to}
                aria-current={active(path, n.to) ? "page" : undefined}
                className={`brand-text flex min-h-11 items-center rounded-lg px-3 text-[0.9375rem] font-medium ${active(path, n.to) ? "bg-white/10 text-white" : "text-slate-300 hover:bg-white/5 hover:text-white"}`}
              >
                {n.label}
              </Link>
            ))}
          </nav>
          <SyncStatus />
        </div>
      </header>
      {signin?.expired && (
        <div className="border-b border-amber-300 bg-amber-50 text-amber-950 print:hidden dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100" role="alert">
          <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 py-3">
            <p className="text-sm">
              <span className="font-semibold">Sign in again to sync.</span> Your work stays on this device and keeps saving.
            </p>
            <Link to="/signin" className="min-h-11 rounded-lg bg-amber-900 px-4 py-2.5 text-sm font-semibold text-white">
              Sign in
            </Link>
          </div>
        </div>
      )}
      <main className={`mx-auto px-4 py-5 sm:px-6 sm:py-8 short:py-3 print:max-w-none print:p-0 ${wide ? "max-w-6xl" : "max-w-5xl"}`}>{children}</main>
      <nav
        aria-label="Main"
        hidden={focus}
        className={`fixed inset-x-0 bottom-0 z-30 grid print:hidden ${cols} border-t border-slate-200 bg-white/95 pb-[env(safe-area-inset-bottom)] backdrop-blur sm:hidden dark:border-slate-800 dark:bg-slate-900/95`}
      >
        {bar.map((n) => (
          <Link
            key={n.to}
            to={n.to}
            aria-current={active(path, n.to) ? "page" : undefined}
            className={`flex min-h-14 flex-col items-center justify-center gap-0.5 text-xs font-semibold ${active(path, n.to) ? "text-indigo-700 dark:text-indigo-300" : "text-slate-500"}`}
          >
            <svg viewBox="0 0 24 24" className="h-6 w-6" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
              <path d={n.icon} />
            </svg>
            {n.label}
          </Link>
        ))}
      </nav>
    </div>
  );
}
