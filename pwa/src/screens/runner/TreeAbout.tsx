// At the session's top: what the tree applies to, when it was reviewed, and the pages it was
// checked against, folded into one line so it never pushes the step down on a phone. On a
// short screen (a phone held sideways) even that line would push the step's title under the
// answer buttons, so there it is left out of the top and shown in the Session menu instead.
import type { ReviewInfo } from "../../shared/review";

export function TreeAbout({ review, className = "", testId = "tree-about" }: { review: ReviewInfo; className?: string; testId?: string }) {
  const parts = [
    review.appliesTo.length ? `Applies to ${review.appliesTo[0]}${review.appliesTo.length > 1 ? ` and ${review.appliesTo.length - 1} more` : ""}` : null,
    review.reviewedOn ? `reviewed ${review.reviewedOn}` : null,
    review.sources.length ? `${review.sources.length} source${review.sources.length === 1 ? "" : "s"}` : null,
  ].filter(Boolean);
  if (!parts.length) return null;
  return (
    <details className={`group text-xs text-slate-600 dark:text-slate-400 ${className}`} data-testid={testId}>
      <summary className="flex min-h-8 cursor-pointer list-none items-center gap-1.5 rounded-md wrap-anywhere hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:text-slate-200">
        <span aria-hidden="true" className="transition group-open:rotate-90">
          ▸
        </span>
        <span>{parts.join(" · ")}</span>
      </summary>
      <div className="mt-1 space-y-1.5 pl-4">
        {review.appliesTo.length > 0 && (
          <p>
            <span className="font-semibold">Applies to:</span> {review.appliesTo.join("; ")}
          </p>
        )}
        {review.reviewedOn && (
          <p>
            <span className="font-semibold">Content reviewed:</span> {review.reviewedOn}
            {review.reviewDue ? ` · next review due ${review.reviewDue}` : ""}
          </p>
        )}
        {review.sources.length > 0 && (
          <div>
            <p className="font-semibold">Checked against:</p>
            <ul className="list-disc space-y-0.5 pl-4">
              {review.sources.map((s) => (
                <li key={s.url}>
                  <a href={s.url} target="_blank" rel="noreferrer noopener" className="text-indigo-700 underline underline-offset-2 wrap-anywhere hover:text-indigo-900 dark:text-indigo-300">
                    {s.title}
                  </a>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </details>
  );
}
