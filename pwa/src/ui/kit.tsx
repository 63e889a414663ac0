// Small building blocks shared by the screens.
import { useEffect, useRef, useState, type ButtonHTMLAttributes, type ReactNode, type Ref } from "react";
import { navigate } from "../router";
import { duration } from "../shared/duration";
import { useModalFocus } from "./focusTrap";

type Tone = "primary" | "secondary" | "ghost" | "danger" | "yes" | "no";

const TONES: Record<Tone, string> = {
  primary: "btn-primary bg-indigo-600 text-white hover:bg-indigo-700 active:bg-indigo-800 shadow-sm disabled:bg-indigo-300",
  secondary:
    "bg-white text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 active:bg-slate-100 dark:bg-slate-800 dark:text-slate-100 dark:ring-slate-600 dark:hover:bg-slate-700",
  ghost: "text-slate-700 hover:bg-slate-100 active:bg-slate-200 dark:text-slate-200 dark:hover:bg-slate-800",
  // White text needs the 700 shades of green and red to reach 4.5:1 (emerald-600 gives 3.65:1).
  danger: "bg-rose-700 text-white hover:bg-rose-800 active:bg-rose-900 shadow-sm",
  yes: "bg-emerald-700 text-white hover:bg-emerald-800 active:bg-emerald-900 shadow-sm",
  no: "bg-rose-700 text-white hover:bg-rose-800 active:bg-rose-900 shadow-sm",
};

// The family of a utility class ("sm:px-4" -> "sm:px"), so a className passed to a component
// replaces the component's own class of the same family instead of fighting it in the CSS.
function family(cls: string): string {
  const i = cls.lastIndexOf(":");
  const variant = i >= 0 ? cls.slice(0, i + 1) : "";
  const util = i >= 0 ? cls.slice(i + 1) : cls;
  if (/^text-(xs|sm|base|lg|xl|\d?xl|\[\d)/.test(util)) return variant + "text-size";
  if (/^text-([a-z]+-\d{2,3}|white|black)$/.test(util)) return variant + "text-color";
  const m = /^(min-h|min-w|px|py|p|justify|rounded|gap)-/.exec(util);
  return m ? variant + m[1] : variant + util;
}

export function mergeClasses(base: string, extra: string): string {
  const taken = new Set(extra.split(/\s+/).filter(Boolean).map(family));
  return [...base.split(/\s+/).filter((c) => c && !taken.has(family(c))), extra].join(" ");
}

export function Button({
  tone = "secondary",
  className = "",
  busy = false,
  children,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { tone?: Tone; busy?: boolean }) {
  return (
    <button
      type="button"
      {...rest}
      disabled={rest.disabled || busy}
      className={mergeClasses(
        `inline-flex min-h-11 items-center justify-center gap-2 rounded-xl px-4 py-2.5 text-[0.9375rem] font-semibold transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:opacity-60 ${TONES[tone]}`,
        className,
      )}
    >
      {busy && <Spinner className="h-4 w-4" />}
      {children}
    </button>
  );
}

export function Link({
  to,
  className = "",
  children,
  ref,
  ...rest
}: {
  to: string;
  className?: string;
  children: ReactNode;
  "aria-current"?: "page" | undefined;
  ref?: Ref<HTMLAnchorElement>;
}) {
  return (
    <a
      ref={ref}
      href={to}
      className={className}
      {...rest}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Spinner({ className = "h-5 w-5" }: { className?: string }) {
  return (
    <svg className={`animate-spin ${className}`} viewBox="0 0 24 24" fill="none" aria-hidden="true">
      <circle cx="12" cy="12" r="10" stroke="currentColor" strokeOpacity="0.25" strokeWidth="4" />
      <path d="M22 12a10 10 0 0 0-10-10" stroke="currentColor" strokeWidth="4" strokeLinecap="round" />
    </svg>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div role="status" className="flex items-center justify-center gap-3 py-16 text-slate-500 dark:text-slate-400">
      <Spinner /> <span>{label}</span>
    </div>
  );
}

/** "Saving…" while a setting's change is on its way to the server, "Saved" once it keeps it. */
export function SaveStatus({ state }: { state: "idle" | "saving" | "saved" }) {
  return (
    <p className="min-h-4 text-xs text-slate-500 dark:text-slate-400" aria-live="polite" data-testid="save-status">
      {state === "saving" ? "Saving…" : state === "saved" ? "Saved" : ""}
    </p>
  );
}

export function ErrorBox({ title = "Something went wrong", children, onRetry }: { title?: string; children?: ReactNode; onRetry?: () => void }) {
  return (
    <div role="alert" className="rounded-xl border border-rose-200 bg-rose-50 p-4 text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-100">
      <p className="font-semibold">{title}</p>
      {children && <div className="mt-1 text-sm">{children}</div>}
      {onRetry && (
        <Button className="mt-3" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function Field({
  label,
  hint,
  children,
  htmlFor,
}: {
  label: string;
  hint?: ReactNode;
  children: ReactNode;
  htmlFor: string;
}) {
  return (
    <div className="space-y-1.5">
      <label htmlFor={htmlFor} className="block text-sm font-semibold text-slate-800 dark:text-slate-200">
        {label}
      </label>
      {children}
      {hint && <p className="text-xs text-slate-500 dark:text-slate-400">{hint}</p>}
    </div>
  );
}

export const inputClass =
  "block w-full min-h-11 rounded-xl border-0 bg-white px-3.5 py-2.5 text-base text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-600 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700";

export function Card({ children, className = "" }: { children: ReactNode; className?: string }) {
  return (
    <div className={`rounded-2xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900 ${className}`}>
      {children}
    </div>
  );
}

export function Dialog({
  title,
  onClose,
  children,
  footer,
  labelledBy = "dialog-title",
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  labelledBy?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useModalFocus(ref, onClose);
  return (
    <div className="fixed inset-0 z-50 flex items-end justify-center bg-slate-900/50 backdrop-blur-[2px] sm:items-center sm:p-6 print:hidden" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-labelledby={labelledBy}
        tabIndex={-1}
        className="max-h-[92vh] w-full overflow-y-auto outline-none rounded-t-3xl bg-white p-5 shadow-2xl sm:max-w-lg sm:rounded-3xl dark:bg-slate-900"
      >
        <div className="mb-4 flex items-start justify-between gap-4">
          <h2 id={labelledBy} className="text-lg font-semibold text-slate-900 dark:text-white">
            {title}
          </h2>
          <button type="button" onClick={onClose} aria-label="Close" className="-m-2 flex h-11 w-11 items-center justify-center rounded-full text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800">
            <svg viewBox="0 0 20 20" className="h-5 w-5" fill="currentColor" aria-hidden="true"><path d="M6.28 5.22a.75.75 0 0 0-1.06 1.06L8.94 10l-3.72 3.72a.75.75 0 1 0 1.06 1.06L10 11.06l3.72 3.72a.75.75 0 1 0 1.06-1.06L11.06 10l3.72-3.72a.75.75 0 0 0-1.06-1.06L10 8.94 6.28 5.22Z" /></svg>
          </button>
        </div>
        {children}
        {footer && <div className="mt-5 flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">{footer}</div>}
      </div>
    </div>
  );
}

/** Copy text, falling back to a hidden textarea where the Clipboard API is not allowed. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    const ta = document.createElement("textarea");
    ta.value = text;
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    if (!ok) throw new Error("The browser did not allow copying; select the text and copy it by hand.");
  }
}

export function CopyButton({ text, label = "Copy", className = "" }: { text: string; label?: string; className?: string }) {
  const [state, setState] = useState<"idle" | "done" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const t = setTimeout(() => setState("idle"), 1800);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <button
      type="button"
      className={mergeClasses("inline-flex min-h-11 min-w-11 items-center justify-center gap-1.5 rounded-lg px-3 text-sm font-semibold text-slate-200 hover:bg-white/10", className)}
      onClick={() =>
        copyText(text).then(
          () => setState("done"),
          () => setState("failed"),
        )
      }
    >
      {state === "done" ? "Copied" : state === "failed" ? "Copy failed" : label}
    </button>
  );
}

export function timeAgo(ms: number | null, now = Date.now()): string {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  return new Date(ms).toLocaleDateString();
}

/** The export's duration format (shared/export.ts, twin of the server's), "–" when unknown. */
export function formatDuration(ms: number | null): string {
  return duration(ms) ?? "–";
}

export function useNow(intervalMs = 15000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/** For fields holding names a machine reads (host names, tickets, variables): a phone must
 * not capitalise, autocorrect or spell-check "ctx-w11-07" into something else. */
export const identifierField = { autoCapitalize: "off", autoCorrect: "off", spellCheck: false } as const;
