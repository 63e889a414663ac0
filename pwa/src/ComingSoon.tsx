// Placeholder page until the session runner lands; it already proves the build, the
// Tailwind pipeline and the service worker end to end.
const promises = [
  { title: "Step by step", text: "Answer a tree's questions, note what you tried, step back when a branch is wrong." },
  { title: "Works offline", text: "Every answer and note is saved on the device and syncs later, without losing a word." },
  { title: "Ticket-ready notes", text: "Export a clean record of the work performed, ready to paste into the ticket." },
];

export function ComingSoon() {
  return (
    <main className="mx-auto flex min-h-screen max-w-3xl flex-col justify-center gap-10 px-6 py-16 text-slate-800">
      <header className="flex items-center gap-4">
        <img src="/icon.svg" alt="" className="h-14 w-14" />
        <div>
          <h1 className="text-3xl font-semibold tracking-tight text-slate-900">
            Branchline <span className="text-slate-400">—</span> the app is on its way
          </h1>
          <p className="mt-1 text-slate-600">Troubleshooting decision trees for MSP engineers.</p>
        </div>
      </header>
      <ul className="grid gap-4 sm:grid-cols-3">
        {promises.map((p) => (
          <li key={p.title} className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
            <h2 className="font-medium text-slate-900">{p.title}</h2>
            <p className="mt-2 text-sm leading-relaxed text-slate-600">{p.text}</p>
          </li>
        ))}
      </ul>
      <p className="text-sm text-slate-500">
        This page already works offline once it has loaded. The session runner comes next.
      </p>
    </main>
  );
}
