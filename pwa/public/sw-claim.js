// Loaded by the service worker (vite.config.ts: workbox.importScripts). A page whose navigation
// began while the worker was still installing (the return from an identity provider after an
// SSO sign-in, a hard reload) is not claimed when the worker activates, and would load the
// app's lazily loaded screens from the network. The app asks the worker to claim it.
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "BRANCHLINE_CLAIM") event.waitUntil(self.clients.claim());
});
