// Routes. The runner, the library and signing in are in the main bundle; everything else
// loads on demand, so opening a session offline stays fast.
import { lazy, Suspense, useEffect } from "react";
import { useSignIn } from "./data";
import { match, navigate, useLocation } from "./router";
import { AppShell } from "./ui/AppShell";
import { Link, Loading } from "./ui/kit";
import { LibraryScreen } from "./screens/LibraryScreen";
import { SignInScreen } from "./screens/SignInScreen";
import { StartSessionScreen } from "./screens/StartSessionScreen";
import { SessionRunner } from "./screens/runner/SessionRunner";

const RegisterScreen = lazy(() => import("./screens/RegisterScreen"));
const AcceptInviteScreen = lazy(() => import("./screens/AcceptInviteScreen"));
const ForgotPasswordScreen = lazy(() => import("./screens/PasswordResetScreens").then((m) => ({ default: m.ForgotPasswordScreen })));
const ResetPasswordScreen = lazy(() => import("./screens/PasswordResetScreens").then((m) => ({ default: m.ResetPasswordScreen })));
const SsoCompleteScreen = lazy(() => import("./screens/SsoCompleteScreen"));
const ExportScreen = lazy(() => import("./screens/ExportScreen"));
const TicketStartScreen = lazy(() => import("./screens/TicketStartScreen"));
const ChecklistScreen = lazy(() => import("./screens/ChecklistScreen"));
const HistoryScreen = lazy(() => import("./screens/HistoryScreen"));
const ProfileScreen = lazy(() => import("./screens/ProfileScreen"));
const EditorHome = lazy(() => import("./editor/EditorHome"));
const TreeEditor = lazy(() => import("./editor/TreeEditor"));
const VersionHistory = lazy(() => import("./editor/VersionHistory"));
const ReviewScreen = lazy(() => import("./editor/ReviewScreen"));
const TeamAdmin = lazy(() => import("./admin/TeamAdmin"));
const BrandAdmin = lazy(() => import("./admin/BrandAdmin"));
const BackupsAdmin = lazy(() => import("./admin/BackupsAdmin"));
const AuditAdmin = lazy(() => import("./admin/AuditAdmin"));
const UsageAdmin = lazy(() => import("./admin/UsageAdmin"));
const InsightsOverview = lazy(() => import("./insights/InsightsOverview"));
const InsightsTree = lazy(() => import("./insights/InsightsTree"));
const ScriptLibrary = lazy(() => import("./scripts/ScriptLibrary"));
const ScriptPage = lazy(() => import("./scripts/ScriptPage"));

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function NotFound() {
  return (
    <div className="py-16 text-center">
      <p className="text-lg font-semibold">There is nothing at this address.</p>
      <Link to="/" className="mt-3 inline-flex min-h-11 items-center font-semibold text-indigo-700">
        Go to the library
      </Link>
    </div>
  );
}

export function App() {
  const here = useLocation();
  const path = here.split("?")[0];
  const signin = useSignIn();

  if (path === "/register") return <Suspense fallback={<Loading />}><RegisterScreen /></Suspense>;
  if (path === "/accept-invite") return <Suspense fallback={<Loading />}><AcceptInviteScreen /></Suspense>;
  if (path === "/signin") return <SignInScreen />;
  if (path === "/forgot-password") return <Suspense fallback={<Loading />}><ForgotPasswordScreen /></Suspense>;
  if (path === "/reset-password") return <Suspense fallback={<Loading />}><ResetPasswordScreen /></Suspense>;
  if (path === "/sso/complete") return <Suspense fallback={<Loading />}><SsoCompleteScreen /></Suspense>;
  // A deep link opened while signed out (a ticket's start link, a shared session) opens once
  // the user has signed in.
  if (!signin) return <Redirect to={path === "/" ? "/signin" : `/signin?next=${encodeURIComponent(here)}`} />;

  let page;
  let wide = false;
  let focus = false;
  let p: Record<string, string> | null;
  if (path === "/") page = <LibraryScreen />;
  else if (path === "/start") page = <TicketStartScreen />;
  else if ((p = match("/start/:tree", path))) page = <StartSessionScreen treeId={p.tree} />;
  else if ((p = match("/checklist/:tree", path))) page = <ChecklistScreen treeId={p.tree} />;
  else if ((p = match("/s/:sid/export", path))) page = <ExportScreen sid={p.sid} />;
  else if ((p = match("/s/:sid", path))) {
    page = <SessionRunner key={p.sid} sid={p.sid} />;
    wide = true;
    focus = true;
  } else if (path === "/history") page = <HistoryScreen />;
  else if (path === "/profile") page = <ProfileScreen />;
  else if (path === "/editor") page = <EditorHome />;
  else if ((p = match("/editor/:tree/history", path))) page = <VersionHistory key={p.tree} treeId={p.tree} />;
  else if ((p = match("/editor/:tree/review", path))) page = <ReviewScreen key={p.tree} treeId={p.tree} />;
  else if ((p = match("/editor/:tree", path))) {
    page = <TreeEditor key={p.tree} treeId={p.tree} />;
    wide = true;
    focus = true;
  } else if (path === "/insights") {
    page = <InsightsOverview />;
    wide = true;
  } else if ((p = match("/insights/trees/:tree", path))) {
    page = <InsightsTree key={p.tree} treeId={p.tree} />;
    wide = true;
  } else if (path === "/scripts") page = <ScriptLibrary />;
  else if ((p = match("/scripts/:script", path))) page = <ScriptPage key={p.script} scriptId={p.script} />;
  else if (path === "/admin") page = <TeamAdmin tab="users" />;
  else if (path === "/admin/keys") page = <TeamAdmin tab="keys" />;
  else if (path === "/admin/integrations") page = <TeamAdmin tab="integrations" />;
  else if (path === "/admin/sso") page = <TeamAdmin tab="sso" />;
  else if (path === "/admin/brand") page = <BrandAdmin />;
  else if (path === "/admin/backups") page = <BackupsAdmin />;
  else if (path === "/admin/audit") page = <AuditAdmin />;
  else if (path === "/admin/usage") page = <UsageAdmin />;
  else page = <NotFound />;
  return (
    <AppShell wide={wide} focus={focus}>
      <Suspense fallback={<Loading />}>{page}</Suspense>
    </AppShell>
  );
}
